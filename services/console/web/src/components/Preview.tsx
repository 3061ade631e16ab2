import type { components } from '../api/schema.ts';
import { mediaPath } from '../lib/format.ts';

/** What a preview needs: a creative, a draft, or the creative inside an approval. */
type Creative = { type: components['schemas']['Creative']['type']; name: string; body?: string | null; mediaSha256?: string | null };

/**
 * What a creative looks like. Media come from the same origin; html runs in a sandboxed iframe
 * with no permissions at all (no scripts, no forms, no same-origin access) and inherits the
 * console's CSP, so nothing it references outside this origin loads either.
 */
export function Preview({ creative, compact = false }: { creative: Creative; compact?: boolean }) {
  const cls = compact ? 'preview preview-compact' : 'preview';
  if ((creative.type === 'image' || creative.type === 'video') && creative.mediaSha256) {
    return creative.type === 'image' ? (
      <img className={cls} src={mediaPath(creative.mediaSha256)} alt={`Creative “${creative.name}”`} />
    ) : (
      <video className={cls} src={mediaPath(creative.mediaSha256)} controls={!compact} muted preload="metadata" aria-label={`Creative “${creative.name}”`} />
    );
  }
  if (creative.type === 'html') {
    return <iframe className={cls} sandbox="" srcDoc={creative.body ?? ''} title={`Preview of “${creative.name}”`} referrerPolicy="no-referrer" />;
  }
  return (
    <div className={`${cls} preview-text`} aria-label={`Text of “${creative.name}”`}>
      {creative.body}
    </div>
  );
}
