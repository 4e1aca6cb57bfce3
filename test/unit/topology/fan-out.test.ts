import { describe, expect, it } from 'vitest';
import { FanOut } from '../../../topology/runtime/fan-out.ts';

describe('FanOut', () => {
  it('hands every value to every subscriber, in subscription order', () => {
    const fan = new FanOut<number>();
    const seen: string[] = [];
    fan.subscribe((v) => seen.push(`a${v}`));
    fan.subscribe((v) => seen.push(`b${v}`));
    fan.next(1);
    fan.next(2);
    expect(seen).toEqual(['a1', 'b1', 'a2', 'b2']);
    expect(fan.observed).toBe(true);
  });

  it('an observer leaving during next neither skips the others nor gets later values', () => {
    const fan = new FanOut<number>();
    const seen: string[] = [];
    const first = fan.subscribe((v) => {
      seen.push(`a${v}`);
      first.unsubscribe();
    });
    fan.subscribe((v) => seen.push(`b${v}`));
    fan.next(1);
    fan.next(2);
    expect(seen).toEqual(['a1', 'b1', 'b2']);
  });

  it('completes its subscribers once, and later subscribers at once', () => {
    const fan = new FanOut<number>();
    let completions = 0;
    fan.subscribe({ complete: () => completions++ });
    fan.complete();
    fan.complete();
    expect(completions).toBe(1);
    expect(fan.observed).toBe(false);
    fan.subscribe({ complete: () => completions++ });
    expect(completions).toBe(2);
  });
});
