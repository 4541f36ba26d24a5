// @ts-check
// The API reference: reads /openapi.json (the document the server is
// checked against) and lists every operation by tag, with its scopes,
// parameters, request body, responses and examples. Everything is built
// with textContent (dom.js), never innerHTML.
import { h } from './dom.js';

const METHODS = ['get', 'post', 'put', 'patch', 'delete'];

/** resolve follows a local $ref ("#/components/schemas/X") once or more. */
function resolve(doc, node) {
  let n = node;
  for (let i = 0; n && n.$ref && i < 10; i++) {
    n = n.$ref.replace(/^#\//, '').split('/').reduce((o, k) => (o ? o[k] : undefined), doc);
  }
  return n || {};
}

/** refName is the component name of a $ref, for labels. */
function refName(node) {
  return node && node.$ref ? node.$ref.split('/').pop() : '';
}

/** typeLabel describes a schema in a few words: "string", "array of Event". */
function typeLabel(doc, schema) {
  if (!schema) return 'any';
  if (schema.$ref) return refName(schema);
  if ('const' in schema) return JSON.stringify(schema.const);
  if (schema.enum) return schema.enum.map((v) => JSON.stringify(v)).join(' | ');
  if (schema.anyOf || schema.oneOf) return (schema.anyOf || schema.oneOf).map((s) => typeLabel(doc, s)).join(' | ');
  const t = Array.isArray(schema.type) ? schema.type.join(' | ') : schema.type;
  if (t === 'array') return 'array of ' + typeLabel(doc, schema.items);
  return t || 'any';
}

/** schemaTable lists an object schema's properties (one level, expandable refs). */
function schemaTable(doc, node, depth = 0) {
  const schema = resolve(doc, node);
  const props = schema.properties || {};
  const required = new Set(schema.required || []);
  const rows = Object.entries(props).map(([name, p]) => {
    const inner = resolve(doc, p.type === 'array' ? p.items : p);
    const nested = depth < 2 && inner.properties && (p.$ref || (p.items && p.items.$ref) || p.type === 'object' || p.type === 'array')
      ? h('details', { class: 'schema' }, h('summary', {}, 'fields'), schemaTable(doc, p.type === 'array' ? p.items : p, depth + 1))
      : null;
    return h('tr', {},
      h('td', { class: 'mono' }, name, required.has(name) ? ' *' : ''),
      h('td', { class: 'mono' }, typeLabel(doc, p)),
      h('td', {}, p.description || resolve(doc, p).description || '', nested));
  });
  const header = [];
  if (node && node.$ref) header.push(h('p', { class: 'small muted' }, refName(node) + (schema.description ? ': ' + schema.description.trim() : '')));
  if (!rows.length) {
    return h('div', {}, header, h('p', { class: 'mono small' }, typeLabel(doc, node)));
  }
  return h('div', {}, header, h('table', {},
    h('thead', {}, h('tr', {}, h('th', {}, 'field (* required)'), h('th', {}, 'type'), h('th', {}, 'description'))),
    h('tbody', {}, rows)));
}

function example(media) {
  if (!media) return null;
  let ex = media.example;
  if (ex === undefined && media.examples) ex = Object.values(media.examples)[0]?.value;
  if (ex === undefined) return null;
  return h('pre', {}, JSON.stringify(ex, null, 2));
}

function operation(doc, path, method, op, shared) {
  const id = op.operationId || method + path;
  const security = op.security ?? doc.security ?? [];
  const scopes = security.flatMap((s) => Object.keys(s));
  const params = [...(shared || []), ...(op.parameters || [])].map((p) => resolve(doc, p));
  const body = op.requestBody && resolve(doc, op.requestBody);
  const json = body && body.content && body.content['application/json'];
  return h('article', { class: 'op', id },
    h('h3', {}, h('span', { class: ['method', method] }, method.toUpperCase()), h('span', { class: 'path' }, path), h('span', {}, op.summary || '')),
    h('p', { class: 'small' }, scopes.length
      ? ['Scope: ', scopes.map((s) => h('span', { class: 'scope' }, s))]
      : h('span', { class: 'muted' }, 'No API key needed.')),
    op.description ? h('p', { class: 'desc' }, op.description.trim()) : null,
    params.length ? [h('h4', {}, 'Parameters'), h('table', {},
      h('thead', {}, h('tr', {}, h('th', {}, 'name'), h('th', {}, 'in'), h('th', {}, 'type'), h('th', {}, 'description'))),
      h('tbody', {}, params.map((p) => h('tr', {},
        h('td', { class: 'mono' }, p.name, p.required ? ' *' : ''), h('td', {}, p.in),
        h('td', { class: 'mono' }, typeLabel(doc, p.schema)), h('td', {}, p.description || '')))))] : null,
    json ? [h('h4', {}, 'Request body'), schemaTable(doc, json.schema), example(json)] : null,
    h('h4', {}, 'Responses'),
    Object.entries(op.responses || {}).map(([code, r]) => {
      const resp = resolve(doc, r);
      const media = resp.content && (resp.content['application/json'] || Object.values(resp.content)[0]);
      return h('div', {},
        h('p', {}, h('span', { class: 'status-code' }, code), ' ', resp.description || '', r.$ref ? h('span', { class: 'muted small' }, ' (' + refName(r) + ')') : null),
        media && media.schema && !r.$ref && Number(code) < 300 ? h('details', { class: 'schema' }, h('summary', {}, 'schema'), schemaTable(doc, media.schema)) : null,
        example(media));
    }));
}

async function main() {
  const status = document.getElementById('status');
  let doc;
  try {
    const res = await fetch('/openapi.json');
    if (!res.ok) throw new Error('HTTP ' + res.status);
    doc = await res.json();
  } catch (err) {
    status.textContent = 'Could not load /openapi.json: ' + err.message;
    return;
  }
  const byTag = new Map((doc.tags || []).map((t) => [t.name, { tag: t, ops: [] }]));
  for (const [path, item] of Object.entries(doc.paths || {})) {
    for (const m of METHODS) {
      if (!item[m]) continue;
      const tag = (item[m].tags || ['other'])[0];
      if (!byTag.has(tag)) byTag.set(tag, { tag: { name: tag }, ops: [] });
      byTag.get(tag).ops.push({ path, method: m, op: item[m], shared: item.parameters });
    }
  }
  const main = document.getElementById('main');
  const toc = document.getElementById('toc');
  status.remove();
  main.append(
    h('h1', {}, doc.info.title, ' ', h('span', { class: 'muted small' }, 'OpenAPI ' + doc.openapi + ', version ' + doc.info.version)),
    h('p', { class: 'desc' }, (doc.info.description || '').trim()));
  for (const { tag, ops } of byTag.values()) {
    if (!ops.length) continue;
    toc.append(h('h2', {}, tag.name), ...ops.map((o) => h('a', { href: '#' + (o.op.operationId || o.method + o.path) }, o.method.toUpperCase() + ' ' + o.path)));
    main.append(h('section', { class: 'tag' },
      h('h2', {}, tag.name), tag.description ? h('p', { class: 'muted' }, tag.description) : null,
      ops.map((o) => operation(doc, o.path, o.method, o.op, o.shared))));
  }
  if (location.hash) document.getElementById(location.hash.slice(1))?.scrollIntoView();
}

main();
