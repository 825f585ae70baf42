/**
 * Runs a metric update so that it can never throw into its caller: a delivery batch, an API
 * request or a poll must not fail, or be recorded again, because a figure could not be kept.
 */
export function quietly(update: () => void): void {
  try {
    update();
  } catch {
    // A lost sample is the whole cost.
  }
}
