// The cronofy SDK ships no types; tests use the calls below with loose option objects.
declare module 'cronofy' {
  type Call = (options?: Record<string, unknown>) => Promise<unknown>;
  export default class Cronofy {
    constructor(config: Record<string, unknown>);
    urls: { api: string };
    createNotificationChannel: Call;
    listNotificationChannels: Call;
    deleteNotificationChannel: Call;
    createEvent: Call;
    deleteEvent: Call;
    readEvents: Call;
    listCalendars: Call;
    createCalendar: Call;
    userInfo: Call;
    profileInformation: Call;
    revokeAuthorization: Call;
    hmacValid(options: { hmac: string; body: string }): boolean;
  }
}
