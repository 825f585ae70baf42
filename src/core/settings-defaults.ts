/** The user settings Google's settings resource exposes, with Google's defaults. */
export function defaultSettings(timeZone: string): Record<string, string> {
  return {
    timezone: timeZone,
    locale: 'en',
    dateFieldOrder: 'MDY',
    format24HourTime: 'false',
    weekStart: '0',
    defaultEventLength: '60',
    hideWeekends: 'false',
    showDeclinedEvents: 'true',
    autoAddHangouts: 'false',
  };
}
