/**
 * A small `helm template`: a Go text/template interpreter with the Sprig/Helm functions the chart under
 * k8s/helm uses (include, toYaml, nindent, indent, quote, default, printf, print, trunc, trimSuffix,
 * contains, eq, ne, not, and, or, empty, required, dict, list, hasKey, sha256sum, b64enc, toString, int,
 * upper, lower) and the actions if / else if / else / range / with / define / template / variables.
 * Anything else is an error, never silently wrong output. The spec renders the chart with it and validates
 * every object; templates that need more than this must extend it (or CI must grow a real helm).
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';

type Value = unknown;
type Token =
  | { t: 'str'; v: string }
  | { t: 'num'; v: number }
  | { t: 'field'; v: string[] } // .A.B (empty: dot)
  | { t: 'var'; name: string; path: string[] } // $x.A.B ($ is name '')
  | { t: 'ident'; v: string }
  | { t: 'punct'; v: '(' | ')' | '|' | ':=' | '=' | ',' };

type Operand = { kind: 'lit'; value: Value } | { kind: 'field'; path: string[] } | { kind: 'var'; name: string; path: string[] } | { kind: 'fn'; name: string } | { kind: 'sub'; pipe: Pipeline };
type Command = Operand[];
type Pipeline = { decl: string[]; assign: boolean; commands: Command[] };
type Node =
  | { type: 'text'; text: string }
  | { type: 'action'; pipe: Pipeline }
  | { type: 'if'; branches: { cond: Pipeline; body: Node[] }[]; otherwise: Node[] }
  | { type: 'range'; pipe: Pipeline; body: Node[]; otherwise: Node[] }
  | { type: 'with'; pipe: Pipeline; body: Node[]; otherwise: Node[] }
  | { type: 'template'; name: string; pipe: Pipeline | null };

class TemplateError extends Error {}

function lexAction(src: string, where: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  const pathAfter = (): string[] => {
    const parts: string[] = [];
    while (src[i] === '.' && /[A-Za-z_]/.test(src[i + 1] ?? '')) {
      i++;
      const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(src.slice(i)) as RegExpExecArray;
      parts.push(m[0]);
      i += m[0].length;
    }
    return parts;
  };
  while (i < src.length) {
    const c = src[i];
    if (/\s/.test(c)) i++;
    else if (c === '"') {
      let j = i + 1;
      while (j < src.length && src[j] !== '"') j += src[j] === '\\' ? 2 : 1;
      tokens.push({ t: 'str', v: JSON.parse(src.slice(i, j + 1)) as string });
      i = j + 1;
    } else if (c === '`') {
      const j = src.indexOf('`', i + 1);
      tokens.push({ t: 'str', v: src.slice(i + 1, j) });
      i = j + 1;
    } else if (/[0-9-]/.test(c) && /^-?[0-9]/.test(src.slice(i))) {
      const m = /^-?[0-9]+(\.[0-9]+)?/.exec(src.slice(i)) as RegExpExecArray;
      tokens.push({ t: 'num', v: Number(m[0]) });
      i += m[0].length;
    } else if (c === '.') {
      const parts = pathAfter();
      if (parts.length === 0) i++;
      tokens.push({ t: 'field', v: parts });
    } else if (c === '$') {
      i++;
      const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(src.slice(i));
      const name = m ? m[0] : '';
      i += name.length;
      tokens.push({ t: 'var', name, path: pathAfter() });
    } else if (src.startsWith(':=', i)) {
      tokens.push({ t: 'punct', v: ':=' });
      i += 2;
    } else if ('()|=,'.includes(c)) {
      tokens.push({ t: 'punct', v: c as '(' });
      i++;
    } else if (/[A-Za-z_]/.test(c)) {
      const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(src.slice(i)) as RegExpExecArray;
      tokens.push({ t: 'ident', v: m[0] });
      i += m[0].length;
    } else throw new TemplateError(`${where}: unexpected "${c}" in {{${src}}}`);
  }
  return tokens;
}

function parsePipeline(tokens: Token[], where: string): Pipeline {
  let pos = 0;
  const decl: string[] = [];
  let assign = false;
  // $a := ..., $a, $b := ..., $a = ...
  let look = 0;
  const names: string[] = [];
  while (tokens[look]?.t === 'var' && (tokens[look] as { path: string[] }).path.length === 0) {
    names.push((tokens[look] as { name: string }).name);
    look++;
    const p = tokens[look];
    if (p?.t === 'punct' && p.v === ',') look++;
    else break;
  }
  const op = tokens[look];
  if (names.length > 0 && op?.t === 'punct' && (op.v === ':=' || op.v === '=')) {
    decl.push(...names);
    assign = op.v === '=';
    pos = look + 1;
  }
  const parseCommands = (stopAtParen: boolean): Command[] => {
    const commands: Command[] = [[]];
    while (pos < tokens.length) {
      const tok = tokens[pos];
      if (tok.t === 'punct' && tok.v === ')') {
        if (!stopAtParen) throw new TemplateError(`${where}: unbalanced ")"`);
        break;
      }
      pos++;
      const current = commands[commands.length - 1];
      if (tok.t === 'punct' && tok.v === '|') commands.push([]);
      else if (tok.t === 'punct' && tok.v === '(') {
        const inner = parseCommands(true);
        if ((tokens[pos] as Token | undefined)?.t !== 'punct') throw new TemplateError(`${where}: missing ")"`);
        pos++;
        current.push({ kind: 'sub', pipe: { decl: [], assign: false, commands: inner } });
      } else if (tok.t === 'str' || tok.t === 'num') current.push({ kind: 'lit', value: tok.v });
      else if (tok.t === 'field') current.push({ kind: 'field', path: tok.v });
      else if (tok.t === 'var') current.push({ kind: 'var', name: tok.name, path: tok.path });
      else if (tok.t === 'ident') {
        if (tok.v === 'true' || tok.v === 'false') current.push({ kind: 'lit', value: tok.v === 'true' });
        else if (tok.v === 'nil') current.push({ kind: 'lit', value: null });
        else current.push({ kind: 'fn', name: tok.v });
      } else throw new TemplateError(`${where}: unexpected "${tok.v}"`);
    }
    if (commands.some((c) => c.length === 0)) throw new TemplateError(`${where}: empty command in pipeline`);
    return commands;
  };
  const commands = parseCommands(false);
  return { decl, assign, commands };
}

type Raw = { kind: 'text'; text: string } | { kind: 'action'; src: string; where: string };

function lex(source: string, file: string): Raw[] {
  const out: Raw[] = [];
  let i = 0;
  let trimNext = false;
  while (i < source.length) {
    const open = source.indexOf('{{', i);
    let text = source.slice(i, open < 0 ? source.length : open);
    if (trimNext) text = text.replace(/^\s+/, '');
    if (open < 0) {
      out.push({ kind: 'text', text });
      break;
    }
    const trimLeft = /^\{\{- /.test(source.slice(open)) || source.startsWith('{{-\n', open);
    if (trimLeft) text = text.replace(/\s+$/, '');
    out.push({ kind: 'text', text });
    const close = source.indexOf('}}', open + 2);
    if (close < 0) throw new TemplateError(`${file}: unclosed action`);
    let inner = source.slice(open + 2, close);
    if (trimLeft) inner = inner.slice(1);
    trimNext = / -$/.test(inner) || /\n-$/.test(inner);
    if (trimNext) inner = inner.slice(0, -1);
    const line = source.slice(0, open).split('\n').length;
    inner = inner.trim();
    if (inner.startsWith('/*')) {
      if (!inner.endsWith('*/')) throw new TemplateError(`${file}:${line}: malformed comment`);
    } else out.push({ kind: 'action', src: inner, where: `${file}:${line}` });
    i = close + 2;
  }
  return out;
}

function parseNodes(raws: Raw[], defines: Map<string, Node[]>): Node[] {
  let pos = 0;
  const parseList = (terminators: string[]): { nodes: Node[]; end: string; rest: string; where: string } => {
    const nodes: Node[] = [];
    while (pos < raws.length) {
      const raw = raws[pos++];
      if (raw.kind === 'text') {
        if (raw.text) nodes.push({ type: 'text', text: raw.text });
        continue;
      }
      const [keyword] = raw.src.split(/\s+/, 1);
      const rest = raw.src.slice(keyword.length).trim();
      if (terminators.includes(keyword)) return { nodes, end: keyword, rest, where: raw.where };
      if (keyword === 'if') {
        const branches = [{ cond: parsePipeline(lexAction(rest, raw.where), raw.where), body: [] as Node[] }];
        let otherwise: Node[] = [];
        for (;;) {
          const part = parseList(['else', 'end']);
          branches[branches.length - 1].body = part.nodes;
          if (part.end === 'end') break;
          if (part.rest.startsWith('if ')) {
            branches.push({ cond: parsePipeline(lexAction(part.rest.slice(3), part.where), part.where), body: [] });
            continue;
          }
          otherwise = parseList(['end']).nodes;
          break;
        }
        nodes.push({ type: 'if', branches, otherwise });
      } else if (keyword === 'range' || keyword === 'with') {
        const pipe = parsePipeline(lexAction(rest, raw.where), raw.where);
        const body = parseList(['else', 'end']);
        const otherwise = body.end === 'else' ? parseList(['end']).nodes : [];
        nodes.push({ type: keyword, pipe, body: body.nodes, otherwise });
      } else if (keyword === 'define') {
        const name = JSON.parse(rest) as string;
        defines.set(name, parseList(['end']).nodes);
      } else if (keyword === 'template') {
        const m = /^"([^"]+)"\s*(.*)$/.exec(rest);
        if (!m) throw new TemplateError(`${raw.where}: malformed template action`);
        nodes.push({ type: 'template', name: m[1], pipe: m[2] ? parsePipeline(lexAction(m[2], raw.where), raw.where) : null });
      } else if (['else', 'end', 'block', 'break', 'continue'].includes(keyword)) {
        throw new TemplateError(`${raw.where}: unexpected or unsupported {{${keyword}}}`);
      } else nodes.push({ type: 'action', pipe: parsePipeline(lexAction(raw.src, raw.where), raw.where) });
    }
    if (terminators.length > 0) throw new TemplateError(`missing {{end}}`);
    return { nodes, end: '', rest: '', where: '' };
  };
  return parseList([]).nodes;
}

export function truthy(v: Value): boolean {
  if (v === null || v === undefined || v === false || v === 0 || v === '') return false;
  if (Array.isArray(v)) return v.length > 0;
  if (typeof v === 'object') return Object.keys(v as object).length > 0;
  return true;
}

function fmt(v: Value): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'object') throw new TemplateError(`printing a ${Array.isArray(v) ? 'list' : 'map'} directly; use toYaml`);
  return String(v);
}

function goQuote(s: string): string {
  return JSON.stringify(s);
}

function field(value: Value, pathParts: string[], where: string): Value {
  let v = value;
  for (const part of pathParts) {
    if (v === null || v === undefined) return undefined;
    if (typeof v !== 'object' || Array.isArray(v)) throw new TemplateError(`${where}: can't evaluate field ${part} in a ${typeof v}`);
    v = (v as Record<string, Value>)[part];
  }
  return v;
}

type Scope = Map<string, Value>[];

export class HelmChart {
  private readonly defines = new Map<string, Node[]>();
  private readonly files = new Map<string, Node[]>();
  readonly chartName: string;

  constructor(readonly dir: string) {
    const chart = parseYaml(fs.readFileSync(path.join(dir, 'Chart.yaml'), 'utf8')) as Record<string, unknown>;
    this.chartName = String(chart.name);
    const templates = path.join(dir, 'templates');
    for (const name of fs.readdirSync(templates).sort()) {
      const full = path.join(templates, name);
      if (!fs.statSync(full).isFile()) continue;
      const key = `${this.chartName}/templates/${name}`;
      this.files.set(key, parseNodes(lex(fs.readFileSync(full, 'utf8'), key), this.defines));
    }
  }

  /** Renders every template file whose name does not start with "_", as `helm template` does. */
  render(values: Record<string, unknown>, release: { name: string; namespace: string; revision?: number }): Map<string, string> {
    const chart = parseYaml(fs.readFileSync(path.join(this.dir, 'Chart.yaml'), 'utf8')) as Record<string, unknown>;
    const out = new Map<string, string>();
    for (const key of this.files.keys()) {
      if (path.basename(key).startsWith('_')) continue;
      const root = {
        Values: values,
        Release: { Name: release.name, Namespace: release.namespace, Revision: release.revision ?? 1, Service: 'Helm', IsInstall: true, IsUpgrade: false },
        Chart: { ...chart, Name: chart.name, Version: chart.version, AppVersion: chart.appVersion },
        Capabilities: { KubeVersion: { Version: 'v1.32.0', Major: '1', Minor: '32' } },
        Template: { Name: key, BasePath: `${this.chartName}/templates` },
      };
      out.set(key, this.renderNamed(key, root, 0));
    }
    return out;
  }

  private renderNamed(name: string, dot: Value, depth: number): string {
    const nodes = this.defines.get(name) ?? this.files.get(name);
    if (!nodes) throw new TemplateError(`no template "${name}"`);
    if (depth > 50) throw new TemplateError(`include nested too deeply at "${name}"`);
    return this.exec(nodes, dot, [new Map([['', dot]])], depth);
  }

  private exec(nodes: Node[], dot: Value, scope: Scope, depth: number): string {
    let out = '';
    for (const node of nodes) {
      switch (node.type) {
        case 'text':
          out += node.text;
          break;
        case 'action': {
          const v = this.pipeline(node.pipe, dot, scope, depth);
          if (node.pipe.decl.length === 0) out += fmt(v);
          break;
        }
        case 'if': {
          const branch = node.branches.find((b) => truthy(this.pipeline(b.cond, dot, scope, depth)));
          out += this.exec(branch ? branch.body : node.otherwise, dot, [...scope, new Map()], depth);
          break;
        }
        case 'with': {
          const v = this.pipeline({ ...node.pipe, decl: [] }, dot, scope, depth);
          out += truthy(v) ? this.exec(node.body, v, [...scope, new Map()], depth) : this.exec(node.otherwise, dot, [...scope, new Map()], depth);
          break;
        }
        case 'range': {
          const v = this.pipeline({ ...node.pipe, decl: [] }, dot, scope, depth);
          const entries: [Value, Value][] = Array.isArray(v)
            ? v.map((x, i) => [i, x])
            : v && typeof v === 'object'
              ? Object.keys(v).sort().map((k) => [k, (v as Record<string, Value>)[k]])
              : v === null || v === undefined
                ? []
                : (() => {
                    throw new TemplateError(`range over a ${typeof v}`);
                  })();
          if (entries.length === 0) out += this.exec(node.otherwise, dot, [...scope, new Map()], depth);
          for (const [k, x] of entries) {
            const vars = new Map<string, Value>();
            if (node.pipe.decl.length === 1) vars.set(node.pipe.decl[0], x);
            if (node.pipe.decl.length === 2) {
              vars.set(node.pipe.decl[0], k);
              vars.set(node.pipe.decl[1], x);
            }
            out += this.exec(node.body, x, [...scope, vars], depth);
          }
          break;
        }
        case 'template':
          out += this.renderNamed(node.name, node.pipe ? this.pipeline(node.pipe, dot, scope, depth) : undefined, depth + 1);
          break;
      }
    }
    return out;
  }

  private lookup(scope: Scope, name: string): Value {
    for (let i = scope.length - 1; i >= 0; i--) if (scope[i].has(name)) return scope[i].get(name);
    throw new TemplateError(`undefined variable $${name}`);
  }

  private pipeline(pipe: Pipeline, dot: Value, scope: Scope, depth: number): Value {
    let value: Value = undefined;
    pipe.commands.forEach((command, index) => {
      value = this.command(command, dot, scope, depth, index > 0 ? { value } : null);
    });
    if (pipe.decl.length > 0) {
      const name = pipe.decl[pipe.decl.length - 1];
      if (pipe.assign) {
        const frame = [...scope].reverse().find((f) => f.has(name));
        if (!frame) throw new TemplateError(`undefined variable $${name}`);
        frame.set(name, value);
      } else scope[scope.length - 1].set(name, value);
    }
    return value;
  }

  private operand(op: Operand, dot: Value, scope: Scope, depth: number): Value {
    switch (op.kind) {
      case 'lit':
        return op.value;
      case 'field':
        return field(dot, op.path, 'template');
      case 'var':
        return field(this.lookup(scope, op.name), op.path, `$${op.name}`);
      case 'sub':
        return this.pipeline(op.pipe, dot, scope, depth);
      case 'fn':
        return this.call(op.name, [], depth);
    }
  }

  private command(command: Command, dot: Value, scope: Scope, depth: number, piped: { value: Value } | null): Value {
    const [head, ...rest] = command;
    if (head.kind !== 'fn') {
      if (rest.length > 0 || piped) throw new TemplateError(`can't give arguments to a non-function`);
      return this.operand(head, dot, scope, depth);
    }
    const args = rest.map((op) => this.operand(op, dot, scope, depth));
    if (piped) args.push(piped.value);
    return this.call(head.name, args, depth);
  }

  private call(name: string, args: Value[], depth: number): Value {
    const str = (v: Value): string => fmt(v);
    const need = (n: number): void => {
      if (args.length !== n) throw new TemplateError(`${name} wants ${n} argument(s), got ${args.length}`);
    };
    switch (name) {
      case 'include':
        need(2);
        return this.renderNamed(str(args[0]), args[1], depth + 1);
      case 'toYaml': {
        need(1);
        if (args[0] === null || args[0] === undefined) return 'null';
        return stringifyYaml(args[0], { lineWidth: 0 }).replace(/\n$/, '');
      }
      case 'nindent':
      case 'indent': {
        need(2);
        const pad = ' '.repeat(Number(args[0]));
        const text = str(args[1])
          .split('\n')
          .map((l) => pad + l)
          .join('\n');
        return name === 'nindent' ? `\n${text}` : text;
      }
      case 'quote':
        return args.filter((a) => a !== null && a !== undefined).map((a) => goQuote(str(a))).join(' ');
      case 'squote':
        return args.filter((a) => a !== null && a !== undefined).map((a) => `'${str(a)}'`).join(' ');
      case 'default':
        need(2);
        return truthy(args[1]) ? args[1] : args[0];
      case 'required':
        need(2);
        if (!truthy(args[1]) && args[1] !== false && args[1] !== 0) throw new TemplateError(str(args[0]));
        return args[1];
      case 'printf': {
        const [format, ...rest] = args;
        let i = 0;
        return str(format).replace(/%([svdq%])/g, (_m, verb: string) => (verb === '%' ? '%' : verb === 'q' ? goQuote(str(rest[i++])) : str(rest[i++])));
      }
      case 'print':
        return args.map(str).join('');
      case 'trunc': {
        need(2);
        const n = Number(args[0]);
        const s = str(args[1]);
        return n >= 0 ? s.slice(0, n) : s.slice(n);
      }
      case 'trimSuffix':
        need(2);
        return str(args[1]).endsWith(str(args[0])) && str(args[0]) ? str(args[1]).slice(0, -str(args[0]).length) : str(args[1]);
      case 'contains':
        need(2);
        return str(args[1]).includes(str(args[0]));
      case 'eq':
        return args.slice(1).some((a) => a === args[0]);
      case 'ne':
        need(2);
        return args[0] !== args[1];
      case 'not':
        need(1);
        return !truthy(args[0]);
      case 'and':
        return args.find((a) => !truthy(a)) ?? args[args.length - 1];
      case 'or':
        return args.find((a) => truthy(a)) ?? args[args.length - 1];
      case 'empty':
        need(1);
        return !truthy(args[0]);
      case 'dict': {
        if (args.length % 2 !== 0) throw new TemplateError('dict wants key/value pairs');
        const out: Record<string, Value> = {};
        for (let i = 0; i < args.length; i += 2) out[str(args[i])] = args[i + 1];
        return out;
      }
      case 'list':
        return [...args];
      case 'hasKey':
        need(2);
        return typeof args[0] === 'object' && args[0] !== null && str(args[1]) in (args[0] as object);
      case 'sha256sum':
        need(1);
        return createHash('sha256').update(str(args[0])).digest('hex');
      case 'b64enc':
        need(1);
        return Buffer.from(str(args[0])).toString('base64');
      case 'toString':
        need(1);
        return str(args[0]);
      case 'int':
        need(1);
        return Math.trunc(Number(args[0]) || 0);
      case 'upper':
        need(1);
        return str(args[0]).toUpperCase();
      case 'lower':
        need(1);
        return str(args[0]).toLowerCase();
      default:
        throw new TemplateError(`function "${name}" is not implemented by this checker`);
    }
  }
}
