/**
 * Request and answer examples for /v1/openapi.json (one advertiser, one device, one order),
 * typed by the schemas they illustrate through jsonBody/v1Json; the docs lint checks them.
 */
export const ids = {
  user: 'b3f9c2e4-5d6a-4e8b-9c1d-2e3f4a5b6c7d',
  device: '7a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d',
  order: '5b6c7d8e-9f0a-4b1c-8d2e-3f4a5b6c7d8e',
} as const;

/** A whole UTC hour `days` after the server started: order times must lie ahead for "Try it out". */
function upcoming(days: number, hour: number): string {
  const at = new Date();
  at.setUTCHours(hour, 0, 0, 0);
  at.setUTCDate(at.getUTCDate() + days);
  return at.toISOString().replace('.000Z', 'Z');
}

export const credentialsExample = { username: 'acme-media', password: 'correct-horse-battery-staple' };
export const signupReplyExample = { status: 0 as const, message: 'succeed' as const, userid: ids.user };
export const loginReplyExample = {
  status: 0 as const,
  message: 'login succeed' as const,
  userid: ids.user,
  token: 'eyJhbGciOiJFUzI1NiIsImtpZCI6ImsxIn0.eyJzdWIiOiJiM2Y5YzJlNCJ9.c2lnbmF0dXJl',
};
export const devicesExample = [{ deviceid: ids.device, name: 'Alexanderplatz lobby', location: 'Alexanderplatz 1, 10178 Berlin', online: true, price: 250 }];

const start = upcoming(30, 8);
const end = upcoming(30, 10);
export const textContentExample = { type: 'text' as const, text: 'Spring sale: 20 % off everything' };
export const imageContentExample = { type: 'image' as const, url: 'https://cdn.example.com/spring-sale.png' };
export const createOrderExample = { deviceid: ids.device, start, end, content: textContentExample };
export const orderExample = { orderid: ids.order, deviceid: ids.device, start, end, status: 'confirmed' as const, price: 500, content: textContentExample };
export const v1ErrorExample = (message: string) => ({ status: -1 as const, message });
