// The gateway's dashboard: the licence tree of a DSI (granted / allocated / consumed / remaining per licence
// and per machine), the DSI's timeline, part lookup; redrawn when a build of the DSI completes (SSE).
// Plain script, no build step; every call goes to the same gateway with the caller's client certificate.
(function () {
  'use strict';
  const SVG = 'http://www.w3.org/2000/svg';
  const $ = (id) => document.getElementById(id);
  let source;
  let current;

  async function getJson(path) {
    const res = await fetch(path, { headers: { accept: 'application/json' } });
    const body = await res.json();
    if (!res.ok) throw new Error(body.message || res.statusText);
    return body;
  }

  function el(name, attrs, parent) {
    const node = document.createElementNS(SVG, name);
    for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
    if (parent) parent.appendChild(node);
    return node;
  }

  function text(parent, x, y, value, cls) {
    const t = el('text', { x, y, class: cls || '' }, parent);
    t.textContent = value;
    return t;
  }

  /** Nodes of the tree: the DSI, its licences (parents first) and the machines holding allocations. */
  function treeNodes(tree) {
    const nodes = new Map();
    nodes.set('dsi', {
      id: 'dsi',
      kind: 'dsi',
      parent: null,
      children: [],
      lines: [tree.dsi.partNumber + ' rev ' + tree.dsi.revision, tree.dsi.status],
      title: 'DSI ' + tree.dsi.dsiId.slice(0, 12) + '…',
    });
    for (const view of tree.licenses) {
      const l = view.license;
      const consumed = tree.allocations
        .filter((a) => a.licenseId === l.licenseId)
        .reduce((s, a) => s + a.consumed, 0);
      nodes.set('license:' + l.licenseId, {
        id: 'license:' + l.licenseId,
        kind: 'license',
        parent: l.parentId ? 'license:' + l.parentId : 'dsi',
        children: [],
        title: l.licenseId,
        data: {
          granted: l.grant.quantity,
          allocated: view.balance.allocated,
          sublicensed: view.balance.sublicensed,
          consumed,
          remaining: view.remaining,
        },
        lines: [
          l.holderMsp + (view.revocation.revoked ? ' (revoked)' : ''),
          'granted ' + l.grant.quantity + ' · allocated ' + view.balance.allocated,
          'consumed ' + consumed + ' · remaining ' + view.remaining,
        ],
      });
    }
    for (const a of tree.allocations) {
      nodes.set('machine:' + a.licenseId + ':' + a.machineId, {
        id: 'machine:' + a.licenseId + ':' + a.machineId,
        kind: 'machine',
        parent: 'license:' + a.licenseId,
        children: [],
        title: a.machineId,
        data: {
          granted: a.quantity,
          allocated: a.quantity,
          consumed: a.consumed,
          remaining: a.quantity - a.consumed,
        },
        lines: [
          a.holderMsp,
          'allocated ' + a.quantity + ' · consumed ' + a.consumed,
          'remaining ' + (a.quantity - a.consumed),
        ],
      });
    }
    for (const n of nodes.values())
      if (n.parent && nodes.has(n.parent)) nodes.get(n.parent).children.push(n.id);
    // A licence has consumed what its machines and its sub-licences consumed.
    const consumedUnder = (id) => {
      const n = nodes.get(id);
      if (n.kind === 'machine') return n.data.consumed;
      const total = n.children.reduce((sum, c) => sum + consumedUnder(c), 0);
      if (n.kind === 'license') {
        n.data.consumed = total;
        n.lines[2] = 'consumed ' + total + ' · remaining ' + n.data.remaining;
      }
      return total;
    };
    consumedUnder('dsi');
    return nodes;
  }

  function drawTree(tree) {
    const svg = $('tree');
    while (svg.firstChild) svg.removeChild(svg.firstChild);
    const nodes = treeNodes(tree);
    const W = 190,
      H = 64,
      GX = 16,
      GY = 46;
    let nextX = 0;
    let depthMax = 0;
    const place = (id, depth) => {
      const n = nodes.get(id);
      depthMax = Math.max(depthMax, depth);
      n.y = 10 + depth * (H + GY);
      if (n.children.length === 0) {
        n.x = 10 + nextX * (W + GX);
        nextX++;
      } else {
        n.children.forEach((c) => place(c, depth + 1));
        const xs = n.children.map((c) => nodes.get(c).x);
        n.x = (Math.min(...xs) + Math.max(...xs)) / 2;
      }
    };
    place('dsi', 0);
    svg.setAttribute('width', String(Math.max(960, 20 + nextX * (W + GX))));
    svg.setAttribute('height', String(20 + (depthMax + 1) * (H + GY)));
    for (const n of nodes.values()) {
      const p = n.parent && nodes.get(n.parent);
      if (p) el('line', { x1: p.x + W / 2, y1: p.y + H, x2: n.x + W / 2, y2: n.y }, svg);
    }
    for (const n of nodes.values()) {
      const attrs = {
        class: 'node ' + n.kind,
        'data-kind': n.kind,
        'data-id': n.title,
        transform: 'translate(' + n.x + ',' + n.y + ')',
      };
      for (const [k, v] of Object.entries(n.data || {})) attrs['data-' + k] = v;
      const g = el('g', attrs, svg);
      el('rect', { width: W, height: H }, g);
      text(g, 8, 16, n.title, 'title');
      n.lines.forEach((line, i) => text(g, 8, 32 + i * 13, line));
    }
  }

  function drawTimeline(tree) {
    const entries = [{ at: tree.dsi.registeredAt, what: 'DSI registered by ' + tree.dsi.ownerMsp }];
    for (const v of tree.licenses)
      entries.push({
        at: v.license.issuedAt,
        what:
          'licence ' + v.license.licenseId + ' (' + v.license.grant.quantity + ') to ' + v.license.holderMsp,
      });
    for (const b of tree.builds) {
      entries.push({ at: b.startedAt, what: 'build started on ' + b.machineId });
      if (b.endedAt)
        entries.push({
          at: b.endedAt,
          what: 'build ' + b.status + ' on ' + b.machineId + (b.partId ? ': part ' + b.partId : ''),
        });
    }
    entries.sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0));
    const list = $('timeline');
    list.replaceChildren(
      ...entries.map((e) => {
        const li = document.createElement('li');
        li.textContent = e.at.replace('T', ' ').slice(0, 19) + '  ' + e.what;
        return li;
      }),
    );
  }

  async function load(dsiId) {
    $('error').textContent = '';
    try {
      const tree = await getJson('/v1/dsis/' + encodeURIComponent(dsiId) + '/tree');
      current = dsiId;
      $('dsi-title').textContent = tree.dsi.title + ' — ' + tree.dsi.partNumber + ' rev ' + tree.dsi.revision;
      drawTree(tree);
      drawTimeline(tree);
      document.body.setAttribute('data-loaded', String(Date.now()));
      subscribe(dsiId);
    } catch (err) {
      $('error').textContent = err.message;
    }
  }

  function subscribe(dsiId) {
    if (source && source.dsiId === dsiId) return;
    if (source) source.close();
    source = new EventSource('/v1/events?dsiId=' + encodeURIComponent(dsiId));
    source.dsiId = dsiId;
    source.onopen = () => {
      $('live').textContent = 'live';
      $('live').setAttribute('data-connected', 'true');
    };
    source.addEventListener('BuildCompleted', () => {
      const live = $('live');
      live.setAttribute('data-updates', String(Number(live.getAttribute('data-updates')) + 1));
      live.textContent = 'live · updated ' + new Date().toISOString().slice(11, 19);
      if (current) void load(current);
    });
    source.onerror = () => {
      $('live').textContent = 'reconnecting…';
    };
  }

  async function lookUpPart(partId) {
    const out = $('part-result');
    out.textContent = '';
    try {
      const r = await getJson('/v1/parts/' + encodeURIComponent(partId));
      const p = document.createElement('p');
      p.className = r.genuine ? 'genuine' : 'not-genuine';
      p.textContent = (r.genuine ? 'Genuine: ' : 'Not genuine: ') + r.part.partId;
      const d = document.createElement('p');
      d.textContent =
        'made by ' +
        r.part.producerMsp +
        ' on ' +
        r.part.machineId +
        ' under licence ' +
        r.part.licenseId +
        ' from DSI ' +
        r.dsi.partNumber +
        ' rev ' +
        r.dsi.revision +
        ' (' +
        r.dsi.ownerMsp +
        '), ' +
        r.part.producedAt;
      out.replaceChildren(p, d);
    } catch (err) {
      const p = document.createElement('p');
      p.className = 'not-genuine';
      p.textContent = err.message;
      out.replaceChildren(p);
    }
  }

  $('dsi-form').addEventListener('submit', (e) => {
    e.preventDefault();
    void load($('dsi-id').value.trim());
  });
  $('part-form').addEventListener('submit', (e) => {
    e.preventDefault();
    void lookUpPart($('part-id').value.trim());
  });
  getJson('/v1/whoami')
    .then((me) => {
      $('who').textContent = me.name + ' · ' + me.mspId + (me.role ? ' · ' + me.role : '');
    })
    .catch(() => undefined);
  const initial = new URLSearchParams(location.search).get('dsiId');
  if (initial) {
    $('dsi-id').value = initial;
    void load(initial);
  }
})();
