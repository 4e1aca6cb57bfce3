import { Observable, type Subscriber } from 'rxjs';

/**
 * The multicast point after each node of a task's pipeline (what an RxJS `Subject` does), without
 * the per-record costs of one: rxjs 7's `Subject.next` allocates a closure for its error context
 * and an iterator over its observers on every call, and a record passes one of these per stage.
 * Here `next` is a plain loop over an array that subscribing and unsubscribing replace rather than
 * mutate, so an observer leaving mid-loop never shifts the loop under it.
 *
 * Only what a task needs: `next` and `complete` (stages report failures through
 * `StageContext.reportError`, never through an Observable `error`).
 */
export class FanOut<T> extends Observable<T> {
  private observers: Subscriber<T>[] = [];
  private completed = false;

  constructor() {
    super((subscriber) => {
      if (this.completed) {
        subscriber.complete();
        return;
      }
      this.observers = [...this.observers, subscriber];
      return () => {
        this.observers = this.observers.filter((o) => o !== subscriber);
      };
    });
  }

  next(value: T): void {
    const observers = this.observers;
    for (let i = 0; i < observers.length; i++) observers[i].next(value);
  }

  complete(): void {
    if (this.completed) return;
    this.completed = true;
    const observers = this.observers;
    this.observers = [];
    for (const o of observers) o.complete();
  }

  get observed(): boolean {
    return this.observers.length > 0;
  }
}
