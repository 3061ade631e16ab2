// A small YAML reader for the two kinds of YAML these checks read: the canonical output of
// `docker stack config` (Go's YAML encoder: block style, quoted where needed) and our own
// Traefik files (block style, comments, `{}` / `[a, b]` flows). Not a general YAML parser:
// anchors, tags and nested flows are rejected loudly rather than misread.
// Scalars stay strings (numbers and booleans included); `null`/`~`/empty become null.

export type YamlValue = string | null | YamlValue[] | { [key: string]: YamlValue };

interface Line {
  indent: number;
  text: string;
  no: number;
}

export function parseYaml(source: string): YamlValue {
  const lines: Line[] = [];
  source.split(/\r?\n/).forEach((raw, i) => {
    const text = stripComment(raw).trimEnd();
    if (text.trim() === '' || text.trim() === '---') return;
    lines.push({ indent: text.length - text.trimStart().length, text: text.trimStart(), no: i + 1 });
  });
  if (lines.length === 0) return null;
  const state = { pos: 0 };
  const value = parseBlock(lines, state, lines[0]!.indent);
  if (state.pos < lines.length) fail(lines[state.pos]!, 'unexpected indentation');
  return value;
}

function fail(line: Line, why: string): never {
  throw new Error(`YAML line ${line.no}: ${why}: ${line.text}`);
}

function stripComment(raw: string): string {
  let quote: string | null = null;
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i]!;
    if (quote) {
      if (c === '\\' && quote === '"') i++;
      else if (c === quote) quote = null;
    } else if (c === '"' || c === "'") {
      if (i === 0 || /[\s:[{,-]/.test(raw[i - 1]!)) quote = c;
    } else if (c === '#' && (i === 0 || /\s/.test(raw[i - 1]!))) {
      return raw.slice(0, i);
    }
  }
  return raw;
}

function parseBlock(lines: Line[], state: { pos: number }, indent: number): YamlValue {
  const first = lines[state.pos]!;
  return first.text === '-' || first.text.startsWith('- ') ? parseSeq(lines, state, indent) : parseMap(lines, state, indent);
}

function parseSeq(lines: Line[], state: { pos: number }, indent: number): YamlValue[] {
  const out: YamlValue[] = [];
  while (state.pos < lines.length) {
    const line = lines[state.pos]!;
    if (line.indent !== indent || !(line.text === '-' || line.text.startsWith('- '))) break;
    const rest = line.text.slice(1).trimStart();
    if (rest === '') {
      state.pos++;
      out.push(nested(lines, state, indent));
    } else if (splitKey(rest)) {
      // "- key: value": a mapping whose first key sits after the dash.
      lines[state.pos] = { indent: indent + (line.text.length - rest.length), text: rest, no: line.no };
      out.push(parseMap(lines, state, lines[state.pos]!.indent));
    } else {
      state.pos++;
      out.push(scalar(rest, line));
    }
  }
  return out;
}

function parseMap(lines: Line[], state: { pos: number }, indent: number): { [key: string]: YamlValue } {
  const out: { [key: string]: YamlValue } = {};
  while (state.pos < lines.length) {
    const line = lines[state.pos]!;
    if (line.indent !== indent) {
      if (line.indent > indent) fail(line, 'unexpected indentation');
      break;
    }
    const kv = splitKey(line.text);
    if (!kv) fail(line, 'expected "key: value"');
    const [key, rest] = kv;
    if (Object.hasOwn(out, key)) fail(line, `duplicate key ${key}`);
    state.pos++;
    if (rest === '') out[key] = nested(lines, state, indent, true);
    else if (/^[|>][-+]?$/.test(rest)) out[key] = blockScalar(lines, state, indent, rest);
    else out[key] = scalar(rest, line);
  }
  return out;
}

/** Value on the following lines: deeper indentation, or a sequence at the key's own indentation. */
function nested(lines: Line[], state: { pos: number }, indent: number, allowSameIndentSeq = false): YamlValue {
  const next = lines[state.pos];
  if (!next) return null;
  if (next.indent > indent) return parseBlock(lines, state, next.indent);
  if (allowSameIndentSeq && next.indent === indent && (next.text === '-' || next.text.startsWith('- '))) {
    return parseSeq(lines, state, indent);
  }
  return null;
}

function blockScalar(lines: Line[], state: { pos: number }, indent: number, header: string): string {
  const parts: string[] = [];
  while (state.pos < lines.length && lines[state.pos]!.indent > indent) parts.push(lines[state.pos++]!.text);
  const text = header.startsWith('>') ? parts.join(' ') : parts.join('\n');
  return header.endsWith('-') ? text : `${text}\n`;
}

function splitKey(text: string): [string, string] | undefined {
  let key: string;
  let rest: string;
  if (text.startsWith('"') || text.startsWith("'")) {
    const end = closingQuote(text);
    if (end < 0 || text[end + 1] !== ':') return undefined;
    key = scalar(text.slice(0, end + 1), undefined) as string;
    rest = text.slice(end + 2);
  } else {
    const m = /^([^\s:][^:]*?):(?:\s+|$)/.exec(text);
    if (!m) return undefined;
    key = m[1]!;
    rest = text.slice(m[0].length);
  }
  return [key, rest.trim()];
}

function closingQuote(text: string): number {
  const q = text[0]!;
  for (let i = 1; i < text.length; i++) {
    if (q === '"' && text[i] === '\\') i++;
    else if (text[i] === q) {
      if (q === "'" && text[i + 1] === "'") i++;
      else return i;
    }
  }
  return -1;
}

function scalar(text: string, line: Line | undefined): YamlValue {
  const t = text.trim();
  if (t === '' || t === 'null' || t === '~') return null;
  if (t === '{}') return {};
  if (t === '[]') return [];
  if (t.startsWith('"')) return JSON.parse(t) as string;
  if (t.startsWith("'")) return t.slice(1, -1).replace(/''/g, "'");
  if (t.startsWith('[') && t.endsWith(']')) {
    const inner = t.slice(1, -1);
    if (/[[\]{}]/.test(inner)) line ? fail(line, 'nested flow collections are not supported') : undefined;
    return inner.split(',').map((s) => scalar(s, line));
  }
  if (t.startsWith('{') || t.startsWith('&') || t.startsWith('*') || t.startsWith('!')) {
    if (line) fail(line, 'flow mappings, anchors and tags are not supported');
  }
  return t;
}
