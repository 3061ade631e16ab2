import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useRef, useState, type DragEvent, type FormEvent } from 'react';
import { api, unwrap } from '../../api/client.ts';
import { messageOf } from '../../api/problem.ts';
import type { components } from '../../api/schema.ts';
import { Preview } from '../../components/Preview.tsx';
import { EmptyState, ErrorMessage, Field, Loading, PageHeader } from '../../components/ui.tsx';
import { formatBytes, formatDateTime } from '../../lib/format.ts';
import { cursorParam, usePagedList } from '../../lib/pages.ts';
import { isUploadType, uploadFile, UPLOAD_TYPES, type CompletedUpload, type UploadProgress } from '../../lib/upload.ts';

type Creative = components['schemas']['Creative'];

interface UploadItem {
  key: string;
  file: File;
  progress?: UploadProgress;
  error?: string;
  media?: CompletedUpload;
  creative?: Creative;
}

export function Creatives() {
  const queryClient = useQueryClient();
  const creatives = usePagedList(['creatives'], (cursor) => unwrap(api.GET('/creatives', { params: { query: { limit: 50, ...cursorParam(cursor) } } })));
  const [uploads, setUploads] = useState<UploadItem[]>([]);
  const update = (key: string, patch: Partial<UploadItem>) => setUploads((all) => all.map((u) => (u.key === key ? { ...u, ...patch } : u)));

  const start = (files: FileList | File[]) => {
    for (const file of Array.from(files)) {
      const key = `${file.name}-${file.size}-${Math.random().toString(36).slice(2)}`;
      if (!isUploadType(file.type)) {
        setUploads((all) => [...all, { key, file, error: `“${file.name}” is ${file.type || 'of an unknown type'}; upload PNG, JPEG, WebP or MP4.` }]);
        continue;
      }
      setUploads((all) => [...all, { key, file }]);
      uploadFile(file, { onProgress: (p) => update(key, { progress: { ...p } }) })
        .then((media) => update(key, { media }))
        .catch((err: unknown) => update(key, { error: messageOf(err) }));
    }
  };

  const items = creatives.items;
  return (
    <section>
      <PageHeader title="Creatives" />
      <DropZone onFiles={start} />
      {uploads.length > 0 && (
        <ul className="uploads" aria-label="Uploads">
          {uploads.map((u) => (
            <UploadRow key={u.key} item={u} onCreated={(creative) => (update(u.key, { creative }), void queryClient.invalidateQueries({ queryKey: ['creatives'] }))} />
          ))}
        </ul>
      )}
      <TextCreativeForm onCreated={() => void queryClient.invalidateQueries({ queryKey: ['creatives'] })} />
      <h2>Your creatives</h2>
      <ErrorMessage error={creatives.error} title="Could not load creatives" />
      {creatives.isPending && <Loading what="creatives" />}
      {creatives.isSuccess && items.length === 0 && (
        <EmptyState title="No creatives yet">
          <p>Drop an image or a video above, or write a text or HTML card. Then book displays to show it.</p>
        </EmptyState>
      )}
      <ul className="grid" aria-label="Your creatives">
        {items.map((c) => (
          <li key={c.id} className="card creative-card">
            <Preview creative={c} />
            <h3>{c.name}</h3>
            <p className="muted">
              {c.type}
              {c.mediaSizeBytes ? `, ${formatBytes(c.mediaSizeBytes)}` : ''}, {c.durationMs / 1000} s per showing · {formatDateTime(c.createdAt)}
            </p>
          </li>
        ))}
      </ul>
      {creatives.hasNextPage && (
        <button type="button" onClick={() => void creatives.fetchNextPage()}>
          Show more
        </button>
      )}
    </section>
  );
}

function DropZone({ onFiles }: { onFiles: (files: FileList) => void }) {
  const [over, setOver] = useState(false);
  const input = useRef<HTMLInputElement>(null);
  const drop = (e: DragEvent) => {
    e.preventDefault();
    setOver(false);
    if (e.dataTransfer.files.length) onFiles(e.dataTransfer.files);
  };
  return (
    <div
      className={over ? 'dropzone over' : 'dropzone'}
      onDragOver={(e) => {
        e.preventDefault();
        setOver(true);
      }}
      onDragLeave={() => setOver(false)}
      onDrop={drop}
      data-testid="dropzone"
    >
      <p>
        <strong>Drop images or videos here</strong> — PNG, JPEG, WebP or MP4. Large files upload in pieces and pick up where they stopped if the connection drops.
      </p>
      <button type="button" onClick={() => input.current?.click()}>
        Choose files…
      </button>
      <input
        ref={input}
        type="file"
        multiple
        accept={UPLOAD_TYPES.join(',')}
        className="sr-only"
        aria-label="Choose files to upload"
        onChange={(e) => {
          if (e.target.files?.length) onFiles(e.target.files);
          e.target.value = '';
        }}
      />
    </div>
  );
}

function UploadRow({ item, onCreated }: { item: UploadItem; onCreated: (c: Creative) => void }) {
  const { file, progress, error, media, creative } = item;
  const [name, setName] = useState(file.name.replace(/\.[^.]+$/, ''));
  const [seconds, setSeconds] = useState('10');
  const create = useMutation({
    mutationFn: () =>
      unwrap(
        api.POST('/creatives', {
          body: { name, type: file.type === 'video/mp4' ? 'video' : 'image', mediaSha256: media!.sha256, durationMs: Math.round(Number(seconds) * 1000) },
        }),
      ),
    onSuccess: onCreated,
  });
  const percent = progress ? Math.floor((progress.sent / Math.max(1, progress.total)) * 100) : 0;
  const submit = (e: FormEvent) => {
    e.preventDefault();
    create.mutate();
  };
  return (
    <li className="card upload">
      <div className="upload-head">
        <strong>{file.name}</strong> <span className="muted">{formatBytes(file.size)}</span>
      </div>
      {error ? (
        <p className="error" role="alert">
          {error}
        </p>
      ) : (
        <>
          <progress max={100} value={percent} aria-label={`Upload of ${file.name}`} />
          <p role="status" className="muted" data-testid="upload-status">
            {phaseText(progress, percent)}
            {progress && progress.resumes > 0 && ` · resumed after ${progress.resumes} dropped connection${progress.resumes === 1 ? '' : 's'}`}
          </p>
        </>
      )}
      {media && !creative && (
        <form className="inline" onSubmit={submit} aria-label={`Save ${file.name} as a creative`}>
          <Field label="Creative name">{(id) => <input id={id} required maxLength={200} value={name} onChange={(e) => setName(e.target.value)} />}</Field>
          <Field label="Seconds per showing">{(id) => <input id={id} type="number" min="1" max="3600" required value={seconds} onChange={(e) => setSeconds(e.target.value)} />}</Field>
          <button type="submit" className="primary" disabled={create.isPending}>
            Save as creative
          </button>
          <ErrorMessage error={create.error} title="Could not save the creative" />
        </form>
      )}
      {creative && <p className="ok">Saved as “{creative.name}”. Book displays to show it.</p>}
    </li>
  );
}

function phaseText(p: UploadProgress | undefined, percent: number): string {
  if (!p || p.phase === 'checking') return 'Preparing…';
  if (p.phase === 'uploading') return `Uploading… ${percent} %`;
  if (p.phase === 'reconnecting') return `${p.note ?? 'Connection lost.'} (${percent} % sent)`;
  if (p.phase === 'completing') return 'Verifying…';
  return 'Uploaded — 100 %';
}

function TextCreativeForm({ onCreated }: { onCreated: () => void }) {
  const [open, setOpen] = useState(false);
  const [type, setType] = useState<'text' | 'html'>('text');
  const [name, setName] = useState('');
  const [body, setBody] = useState('');
  const [seconds, setSeconds] = useState('10');
  const create = useMutation({
    mutationFn: () => unwrap(api.POST('/creatives', { body: { name, type, body, durationMs: Math.round(Number(seconds) * 1000) } })),
    onSuccess: () => {
      setName('');
      setBody('');
      setOpen(false);
      onCreated();
    },
  });
  if (!open) {
    return (
      <p>
        <button type="button" onClick={() => setOpen(true)}>
          Write a text or HTML card…
        </button>
      </p>
    );
  }
  return (
    <form
      className="card"
      aria-label="New text or HTML card"
      onSubmit={(e) => {
        e.preventDefault();
        create.mutate();
      }}
    >
      <h2>New text or HTML card</h2>
      <fieldset className="inline">
        <legend>Kind</legend>
        <label className="choice">
          <input type="radio" name="card-type" checked={type === 'text'} onChange={() => setType('text')} /> Plain text
        </label>
        <label className="choice">
          <input type="radio" name="card-type" checked={type === 'html'} onChange={() => setType('html')} /> HTML (previewed without scripts)
        </label>
      </fieldset>
      <Field label="Name">{(id) => <input id={id} required maxLength={200} value={name} onChange={(e) => setName(e.target.value)} />}</Field>
      <Field label={type === 'html' ? 'HTML' : 'Text'}>{(id) => <textarea id={id} required rows={5} value={body} onChange={(e) => setBody(e.target.value)} />}</Field>
      <Field label="Seconds per showing">{(id) => <input id={id} type="number" min="1" max="3600" required value={seconds} onChange={(e) => setSeconds(e.target.value)} />}</Field>
      {body && (
        <div>
          <h3>Preview</h3>
          {/* A draft is not stored yet, so it has no media: the preview renders its body. */}
          <Preview creative={{ name: name || 'draft', type, body }} />
        </div>
      )}
      <ErrorMessage error={create.error} title="Could not save the card" />
      <div className="actions">
        <button type="submit" className="primary" disabled={create.isPending}>
          Save card
        </button>
        <button type="button" onClick={() => setOpen(false)}>
          Cancel
        </button>
      </div>
    </form>
  );
}
