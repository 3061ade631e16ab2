import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { api, unwrap } from '../../api/client.ts';
import { ErrorMessage, Field } from '../../components/ui.tsx';
import type { OwnedDisplay } from './shared.tsx';

export interface ContentChoice {
  id: string;
  name: string;
  /** Whose it is: the operator's own creative, or an advertiser's they approved. */
  source: 'yours' | 'approved';
}

/**
 * What an operator may put on their screens themselves (house content, emergencies): their own
 * creatives and those they approved — the same rule api-v2 checks when it stores the choice.
 */
export function useContentChoices() {
  return useQuery({
    queryKey: ['content-choices'],
    queryFn: async (): Promise<ContentChoice[]> => {
      const [own, approved] = await Promise.all([
        unwrap(api.GET('/creatives', { params: { query: { limit: 200 } } })),
        unwrap(api.GET('/approvals', { params: { query: { state: 'approved', limit: 200 } } })),
      ]);
      const choices: ContentChoice[] = own.items.map((c) => ({ id: c.id, name: c.name, source: 'yours' }));
      const seen = new Set(choices.map((c) => c.id));
      for (const a of approved.items) if (!seen.has(a.creativeId)) choices.push({ id: a.creativeId, name: a.creative.name, source: 'approved' });
      return choices;
    },
  });
}

export const choiceLabel = (c: ContentChoice) => `${c.name} (${c.source === 'yours' ? 'your creative' : 'approved advertiser creative'})`;

/** A display's content policy and house content, saved with PATCH /displays/{id}. */
export function ContentSettings({ display, choices, compact = false }: { display: OwnedDisplay; choices: ContentChoice[]; compact?: boolean }) {
  const queryClient = useQueryClient();
  const [policy, setPolicy] = useState(display.contentPolicy);
  const [house, setHouse] = useState(display.houseCreativeId ?? '');
  const save = useMutation({
    mutationFn: () =>
      unwrap(api.PATCH('/displays/{id}', { params: { path: { id: display.id } }, body: { contentPolicy: policy, houseCreativeId: house === '' ? null : house } })),
    onSuccess: (d) => {
      queryClient.setQueryData(['display', display.id, 'owner'], d);
      void queryClient.invalidateQueries({ queryKey: ['displays'] });
    },
  });
  const unchanged = policy === display.contentPolicy && house === (display.houseCreativeId ?? '');
  // A house creative no longer listed (e.g. deleted) still shows as the current value.
  const known = house === '' || choices.some((c) => c.id === house);
  return (
    <form
      className={compact ? 'inline-form' : undefined}
      aria-label={`Content of ${display.name}`}
      onSubmit={(e) => {
        e.preventDefault();
        save.mutate();
      }}
    >
      {!compact && (
        <Field label="Booked content" hint="Review: each creative (and each swap) plays once you approve it in your review queue.">
          {(id, describedBy) => (
            <select id={id} aria-describedby={describedBy} value={policy} onChange={(e) => setPolicy(e.target.value as typeof policy)}>
              <option value="review">Waits for my review</option>
              <option value="auto">Plays as booked</option>
            </select>
          )}
        </Field>
      )}
      <Field label={compact ? `House content for ${display.name}` : 'House content'} hint={compact ? undefined : 'Plays in every slot no booking fills.'}>
        {(id, describedBy) => (
          <select id={id} aria-describedby={describedBy} value={house} onChange={(e) => setHouse(e.target.value)}>
            <option value="">None (empty slots stay blank)</option>
            {!known && <option value={house}>Current creative ({house})</option>}
            {choices.map((c) => (
              <option key={c.id} value={c.id}>
                {choiceLabel(c)}
              </option>
            ))}
          </select>
        )}
      </Field>
      <div className="actions">
        <button type="submit" disabled={unchanged || save.isPending}>
          Save
        </button>
        <span role="status" className="muted">
          {save.isSuccess && unchanged ? 'Saved.' : ''}
        </span>
      </div>
      <ErrorMessage error={save.error} title="Could not save the content settings" />
    </form>
  );
}
