/** When a recurring job fires. */
export interface Schedule {
  /**
   * The first fire strictly after `afterMs` (epoch milliseconds), as epoch milliseconds, or
   * `null` when there is none.
   */
  next(afterMs: number): number | null;
}
