const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Whether a string can be one of our ids (a UUID); anything else names nothing here. */
export const isUuid = (s: string): boolean => UUID.test(s);
