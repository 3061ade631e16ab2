/**
 * What the demo puts on the platform. Everything is found again by name, so a second run
 * reuses it; changing a name here makes the next run create the renamed object.
 */
import type { Rgb } from '../display-sim/png.ts';

export const DEMO_USERS = { operator: 'demo-operator', advertiser: 'demo-advertiser' } as const;

/**
 * A loop of 6 slots × 5 s: a booked creative is on screen within seconds of connecting and a
 * play is recorded every few seconds, so the report fills while you watch.
 */
export const DEMO_LOOP = { lengthMs: 30_000, slotCount: 6 };
export const CREATIVE_DURATION_MS = 5_000;

export interface DemoDisplay {
  name: string;
  timezone: string;
  location: { address: string; lat: number; lng: number };
  resolution: { widthPx: number; heightPx: number };
  tags: string[];
  pricePerSlotHour: number;
  audienceMultiplier: number;
}

export const DEMO_DISPLAYS: DemoDisplay[] = [
  {
    name: 'Demo · Berlin Alexanderplatz',
    timezone: 'Europe/Berlin',
    location: { address: 'Alexanderplatz 1, 10178 Berlin', lat: 52.5219, lng: 13.4132 },
    resolution: { widthPx: 1920, heightPx: 1080 },
    tags: ['demo', 'station', 'berlin'],
    pricePerSlotHour: 400,
    audienceMultiplier: 12,
  },
  {
    name: "Demo · London King's Cross",
    timezone: 'Europe/London',
    location: { address: "King's Cross Station, London N1C 4AX", lat: 51.5308, lng: -0.1238 },
    resolution: { widthPx: 1920, heightPx: 1080 },
    tags: ['demo', 'station', 'london'],
    pricePerSlotHour: 450,
    audienceMultiplier: 15,
  },
  {
    name: 'Demo · New York Times Square',
    timezone: 'America/New_York',
    location: { address: '1560 Broadway, New York, NY 10036', lat: 40.758, lng: -73.9855 },
    resolution: { widthPx: 1080, heightPx: 1920 },
    tags: ['demo', 'street', 'new-york'],
    pricePerSlotHour: 900,
    audienceMultiplier: 40,
  },
  {
    name: 'Demo · Tokyo Shibuya Crossing',
    timezone: 'Asia/Tokyo',
    location: { address: 'Shibuya Crossing, Tokyo 150-0043', lat: 35.6595, lng: 139.7005 },
    resolution: { widthPx: 1920, heightPx: 1080 },
    tags: ['demo', 'street', 'tokyo'],
    pricePerSlotHour: 800,
    audienceMultiplier: 35,
  },
  {
    name: 'Demo · Sydney Circular Quay',
    timezone: 'Australia/Sydney',
    location: { address: 'Circular Quay, Sydney NSW 2000', lat: -33.8615, lng: 151.2108 },
    resolution: { widthPx: 1080, heightPx: 1920 },
    tags: ['demo', 'ferry', 'sydney'],
    pricePerSlotHour: 300,
    audienceMultiplier: 8,
  },
];

export interface DemoCreative {
  name: string;
  background: Rgb;
  ink: Rgb;
}

export const DEMO_CREATIVES: DemoCreative[] = [
  { name: 'Spring sale', background: [196, 40, 71], ink: [255, 255, 255] },
  { name: 'Fresh coffee & cake', background: [24, 48, 96], ink: [255, 214, 102] },
  { name: 'City marathon Sunday', background: [16, 120, 80], ink: [240, 255, 240] },
  { name: 'Museum night', background: [32, 24, 40], ink: [186, 160, 255] },
];

/** Each booking: a creative on some displays, from now for BOOKING_DAYS. "Museum night" stays unbooked, to swap in. */
export const DEMO_BOOKINGS: { creative: string; displays: string[] }[] = [
  { creative: 'Spring sale', displays: ['Demo · Berlin Alexanderplatz', "Demo · London King's Cross", 'Demo · New York Times Square'] },
  { creative: 'Fresh coffee & cake', displays: ['Demo · Tokyo Shibuya Crossing', 'Demo · Sydney Circular Quay', 'Demo · Berlin Alexanderplatz'] },
  { creative: 'City marathon Sunday', displays: DEMO_DISPLAYS.map((d) => d.name) },
];

export const BOOKING_DAYS = 30;
