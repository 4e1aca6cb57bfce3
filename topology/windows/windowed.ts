/** A window instance: event times in [start, end). */
export interface Window {
  start: number;
  end: number;
}

/** The key of a windowed aggregate's output: the grouping key and the window it counts. */
export interface Windowed<K> {
  key: K;
  window: Window;
}
