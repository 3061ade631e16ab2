/**
 * v1 order content ⇄ v2 creatives. v1 fetches nothing itself: a text becomes a `text` creative,
 * an image URL an `html` creative whose body shows that image. The html is generated from one
 * fixed template with a marker, so it can be read back as `{type:"image", url}`.
 */
import type { Creative } from '@marquee/api-v2';

export type V1Content = { type: 'text'; text: string } | { type: 'image'; url: string };
/** What GET /v1/orders shows for a creative v1 cannot express (made through v2: video, own html...). */
export type V1ShownContent = V1Content | { type: 'other'; name: string };

const MARKER = '<!-- marquee-v1-image -->';
const TEMPLATE_HEAD = `<!doctype html>${MARKER}<html><body style="margin:0;background:#000"><img alt="" style="width:100vw;height:100vh;object-fit:contain" src="`;
const TEMPLATE_TAIL = '"></body></html>';

export function toCreativeInput(content: V1Content, durationMs: number) {
  if (content.type === 'text') return { name: 'v1 order text', type: 'text' as const, body: content.text, durationMs };
  return { name: 'v1 order image', type: 'html' as const, body: TEMPLATE_HEAD + escapeAttribute(content.url) + TEMPLATE_TAIL, durationMs };
}

export function toV1Content(creative: Creative | undefined): V1ShownContent {
  if (!creative) return { type: 'other', name: '' };
  if (creative.type === 'text' && creative.body !== null) return { type: 'text', text: creative.body };
  if (creative.type === 'image' && creative.mediaUrl) return { type: 'image', url: creative.mediaUrl };
  if (creative.type === 'html' && creative.body?.startsWith(TEMPLATE_HEAD) && creative.body.endsWith(TEMPLATE_TAIL)) {
    return { type: 'image', url: unescapeAttribute(creative.body.slice(TEMPLATE_HEAD.length, -TEMPLATE_TAIL.length)) };
  }
  return { type: 'other', name: creative.name };
}

function escapeAttribute(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function unescapeAttribute(value: string): string {
  return value.replace(/&quot;/g, '"').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
}
