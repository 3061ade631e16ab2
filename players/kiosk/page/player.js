/**
 * The kiosk page. It gets the playlist and the server clock from the player daemon (server-sent
 * events), computes what to show at each instant with the same schedule.js the daemon uses
 * (loop.anchorAt on the server's clock), prepares the next showing before its slot begins
 * (decoded image, buffered video, loaded frame) and swaps layers so that no frame is empty.
 * It reports when a showing actually became visible and when it stopped (the frame in which it
 * appeared or was covered): the daemon turns showings of `booking` entries into proof of play.
 */
import { compileSchedule, showingAt } from '/schedule.js';

const token = new URLSearchParams(location.search).get('token') ?? '';
const stage = /** @type {HTMLElement} */ (document.getElementById('stage'));
const pageNow = () => performance.timeOrigin + performance.now();
/** Server time minus page time, from the daemon's clock messages. */
let offset = 0;
const serverNow = () => pageNow() + offset;

const IDLE = { kind: 'idle', key: 'idle', entry: null, slot: -1, slotStartMs: 0, untilMs: Infinity };
const READY_TIMEOUT_MS = 15_000;

let schedule = null;
/** The layer on screen. */
let current = null;
/** Key of the showing being switched to (a later switch supersedes an earlier one still loading). */
let target = null;
/** Layers made ahead of time, by showing key. */
const prepared = new Map();
let timer = 0;
let zIndex = 1;

// ------------------------------------------------------------------ reports to the daemon

const outbox = [];
let sending = false;

function report(event, layer, atMs) {
  const s = layer.showing;
  outbox.push({
    event,
    key: s.key,
    kind: layer.failed ? 'idle' : s.kind,
    atMs: Math.round(atMs),
    slot: s.slot,
    ...(s.entry ? { bookingId: s.entry.bookingId, creativeId: s.entry.creativeId, mediaSha256: s.entry.mediaSha256 } : {}),
  });
  void flush();
}

async function flush() {
  if (sending || outbox.length === 0) return;
  sending = true;
  const events = outbox.splice(0, 100);
  try {
    const res = await fetch(`/report?token=${encodeURIComponent(token)}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ events }) });
    if (res.status >= 500) throw new Error(`HTTP ${res.status}`);
  } catch {
    outbox.unshift(...events); // the daemon is restarting: keep them and try again
    sending = false;
    setTimeout(flush, 1_000);
    return;
  }
  sending = false;
  void flush();
}

// ------------------------------------------------------------------ layers

function withTimeout(promise) {
  return Promise.race([promise, new Promise((resolve) => setTimeout(() => resolve(false), READY_TIMEOUT_MS))]);
}

/** A full-screen element for one showing, hidden until shown; `ready` resolves false if it cannot be shown. */
function makeLayer(showing) {
  const m = showing.entry;
  let el;
  let ready;
  if (!m) {
    el = document.createElement('div');
    ready = Promise.resolve(true);
  } else if (m.type === 'image') {
    el = new Image();
    el.src = `/media/${m.mediaSha256}`;
    ready = el.decode().then(() => true, () => false);
  } else if (m.type === 'video') {
    el = document.createElement('video');
    el.muted = true;
    el.playsInline = true;
    el.preload = 'auto';
    el.loop = showing.kind !== 'booking'; // house and emergency videos run for as long as they are on
    ready = new Promise((resolve) => {
      el.addEventListener('canplay', () => resolve(true), { once: true });
      el.addEventListener('error', () => resolve(false), { once: true });
    });
    el.src = `/media/${m.mediaSha256}`;
  } else if (m.type === 'html') {
    el = document.createElement('iframe');
    // Spec D.9: a sandbox without same-origin, forms, popups or top navigation; scripts only if allowed.
    el.setAttribute('sandbox', m.scripts ? 'allow-scripts' : '');
    el.setAttribute('referrerpolicy', 'no-referrer');
    ready = new Promise((resolve) => el.addEventListener('load', () => resolve(true), { once: true }));
    el.src = `/html/${m.mediaSha256}`;
  } else {
    el = document.createElement('div');
    el.classList.add('text');
    ready = fetch(`/media/${m.mediaSha256}`)
      .then((r) => (r.ok ? r.text() : Promise.reject(new Error(`HTTP ${r.status}`))))
      .then((text) => ((el.textContent = text), true), () => false);
  }
  el.classList.add('layer');
  stage.appendChild(el);
  const layer = { showing, el, failed: false, ready: null, shown: null };
  layer.ready = withTimeout(ready).then((ok) => {
    layer.failed = !ok;
    return ok;
  });
  return layer;
}

function prepare(showing) {
  let layer = prepared.get(showing.key);
  if (!layer) {
    layer = makeLayer(showing);
    prepared.set(showing.key, layer);
  }
  return layer;
}

function removeLayer(layer) {
  if (layer.el instanceof HTMLVideoElement) {
    layer.el.pause();
    layer.el.removeAttribute('src');
    layer.el.load();
  }
  layer.el.remove();
}

/** Resolves with the server time of the frame that shows what was just changed. */
function presented(layer) {
  const el = layer.el;
  if (el instanceof HTMLVideoElement && 'requestVideoFrameCallback' in el && !layer.failed) {
    return new Promise((resolve) => {
      let done = false;
      el.requestVideoFrameCallback((_now, meta) => {
        done = true;
        resolve(performance.timeOrigin + meta.presentationTime + offset);
      });
      setTimeout(() => !done && afterPaint().then(resolve), 1_000);
    });
  }
  return afterPaint();
}

/** The frame with the change was painted by the time the second animation frame starts. */
function afterPaint() {
  return new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(() => resolve(serverNow()))));
}

async function switchTo(showing) {
  target = showing.key;
  let layer = prepare(showing);
  const ok = await layer.ready;
  if (target !== showing.key) return; // superseded while it was loading
  prepared.delete(showing.key);
  if (!ok) {
    // Cannot be shown (missing or broken media): the screen shows nothing, and nothing is reported as played.
    removeLayer(layer);
    layer = makeLayer(IDLE);
    layer.showing = showing;
    layer.failed = true;
  }
  if (layer.el instanceof HTMLVideoElement) {
    // A booked video joins its slot where the loop is (two screens of one loop stay in step).
    const into = (serverNow() - showing.slotStartMs) / 1000;
    if (showing.kind === 'booking' && into > 0.25 && Number.isFinite(layer.el.duration) && into < layer.el.duration) layer.el.currentTime = into;
    void layer.el.play().catch(() => {});
  }
  layer.el.style.zIndex = String(++zIndex);
  layer.el.classList.add('visible');
  layer.shown = presented(layer);
  const old = current;
  current = layer;
  stage.dataset.showing = layer.failed ? `failed:${showing.key}` : showing.key;
  const at = await layer.shown;
  if (old) {
    // The old layer stays until the new one is on screen: never an empty frame between them.
    await old.shown;
    removeLayer(old);
    report('stop', old, at);
  }
  report('start', layer, at);
}

// ------------------------------------------------------------------ the loop

function tick() {
  clearTimeout(timer);
  const t = serverNow();
  const showing = schedule ? showingAt(schedule, t) : IDLE;
  if (target !== showing.key) void switchTo(showing);
  let next = null;
  if (schedule && Number.isFinite(showing.untilMs)) {
    next = showingAt(schedule, showing.untilMs);
    if (next.key !== showing.key) prepare(next);
  }
  for (const [key, layer] of prepared) {
    if (key !== showing.key && key !== next?.key) {
      removeLayer(layer);
      prepared.delete(key);
    }
  }
  // At the next change, and at least every second (clock corrections, playlist validity).
  const wait = Number.isFinite(showing.untilMs) ? showing.untilMs - serverNow() : 1_000;
  timer = setTimeout(tick, Math.max(1, Math.min(wait + 1, 1_000)));
}

const events = new EventSource(`/events?token=${encodeURIComponent(token)}`);
events.addEventListener('state', (e) => {
  const data = JSON.parse(e.data);
  offset = data.serverNowMs - pageNow();
  schedule = data.playlist ? compileSchedule(data.playlist) : null;
  tick();
});
events.addEventListener('clock', (e) => {
  offset = JSON.parse(e.data).serverNowMs - pageNow();
});

addEventListener('pagehide', () => {
  if (!current) return;
  const s = current.showing;
  const body = JSON.stringify({ events: [{ event: 'stop', key: s.key, kind: current.failed ? 'idle' : s.kind, atMs: Math.round(serverNow()) }] });
  navigator.sendBeacon(`/report?token=${encodeURIComponent(token)}`, new Blob([body], { type: 'application/json' }));
});
