const semver = require('semver');
const fs = require('fs');
const path = require('path');
const dir = 'process.env.LEGACY_DIR';
const ranges = new Set();
for (const f of fs.readdirSync(dir)) {
  const a = JSON.parse(fs.readFileSync(path.join(dir, f)));
  if (typeof a.vulnerable_versions === 'string') ranges.add(a.vulnerable_versions);
  if (typeof a.patched_versions === 'string') ranges.add(a.patched_versions);
}
const bulk = JSON.parse(fs.readFileSync('process.env.BULK_JSON'));
for (const k in bulk) for (const a of bulk[k]) ranges.add(a.vulnerable_versions);
// Grammar corners written for this oracle.
for (const r of ['*', '', 'x', '1.x', '1.2.x', '1.2.*', '~1.2.3', '~1.2', '~1', '~0.0.1', '~>1.2.3', '^1.2.3', '^0.2.3', '^0.0.3', '^1.2.x', '^0.0.x', '^0.0', '^1.x', '^0.x', '^1.2.3-beta.2', '~1.2.3-beta.2',
  '1.2.3 - 2.3.4', '1.2 - 2.3.4', '1.2.3 - 2.3', '1.2.3 - 2', '>1', '>1.2', '<1.2', '>=1.2', '<=1.2', '=1.2', '1.2', '1', '>= 1.2.3', '< 2.0.0', '>=1.2.3 <2.0.0-0', '<1.0.0-rc.1',
  '>=1.0.0-alpha <1.0.0', '1.2.3beta', '=v1.2.3', 'v1.2.3', '  >=1.2.3   <1.3  ', '>=01.02.03', '1.2.3 || 2.x', '<0.0.0-0', '>1.2.3-alpha.3', '^1.2.3+build', '1.2.3+build', '>=1.2.3-beta <1.2.3', '0.x || >=1.5 <2', '~ 1.2.3', '^ 1.2', '>=*', '<=*', '<*']) ranges.add(r);
function versionsFor(r) {
  const vs = new Set(['0.0.0', '0.0.1', '0.1.0', '1.0.0', '1.0.0-alpha', '1.0.0-rc.1', '1.2.3', '1.2.3-beta.2', '1.2.4', '1.3.0', '1.3.0-0', '2.0.0', '2.0.0-0', '2.0.0-beta', '99.0.0', '1.2.3beta', 'v1.2.3', '=1.2.3']);
  for (const m of r.matchAll(/(\d+)(?:\.(\d+))?(?:\.(\d+))?(-[0-9A-Za-z.-]+)?/g)) {
    const a = +m[1], b = +(m[2] || 0), c = +(m[3] || 0);
    for (const [x, y, z] of [[a, b, c], [a, b, c + 1], [a, b + 1, 0], [a + 1, 0, 0], [a, b, Math.max(c - 1, 0)]]) {
      vs.add(`${x}.${y}.${z}`); vs.add(`${x}.${y}.${z}-0`); vs.add(`${x}.${y}.${z}-beta.1`);
    }
    if (m[4]) { vs.add(`${a}.${b}.${c}${m[4]}`); vs.add(`${a}.${b}.${c}${m[4]}.1`); }
  }
  return [...vs];
}
const out = [];
for (const r of [...ranges].sort()) {
  let valid = semver.validRange(r, { loose: true, includePrerelease: true }) !== null;
  const rec = { range: r, valid, npm: [], strict: [] };
  if (valid) {
    for (const v of versionsFor(r).sort()) {
      if (semver.satisfies(v, r, { includePrerelease: true, loose: true })) rec.npm.push(v);
      if (semver.satisfies(v, r)) rec.strict.push(v);
    }
    rec.tested = versionsFor(r).sort();
  }
  out.push(rec);
}
fs.writeFileSync(process.argv[2], JSON.stringify({ generator: 'node-semver ' + require('semver/package.json').version, cases: out }, null, 0).replace(/\},\{"range"/g, '},\n{"range"'));
console.log(out.length, 'ranges');
