// Scores a loopback site with the real MDN HTTP Observatory code: the
// package's own retriever and tests, combined as its scanner does (the
// scanner's scan() does not pass ports through, so its 20 lines are
// repeated here). Usage: node score.mjs NODE_MODULES HOST HTTP_PORT HTTPS_PORT
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const [, , modules, host, httpPort, httpsPort] = process.argv;
const root = path.join(modules, '@mdn', 'mdn-http-observatory');
// The preload list is downloaded by a postinstall script, which tests do not
// run; loopback hosts are on no preload list anyway.
const preload = path.join(root, 'conf', 'hsts-preload.json');
if (!fs.existsSync(preload)) fs.writeFileSync(preload, '{}');
const src = (p) => pathToFileURL(path.join(root, 'src', p)).href;
const { retrieve } = await import(src('retriever/retriever.js'));
const { ALL_TESTS } = await import(src('constants.js'));
const { getGradeForScore, getScoreModifier } = await import(src('grader/grader.js'));
const { MINIMUM_SCORE_FOR_EXTRA_CREDIT } = await import(src('grader/charts.js'));

const r = await retrieve(host, { httpPort, httpsPort });
let withExtra = 100;
let uncurved = 100;
const tests = {};
for (const test of ALL_TESTS) {
  const out = test(r);
  const modifier = getScoreModifier(out.result);
  withExtra += modifier;
  if (modifier < 0) uncurved += modifier;
  tests[out.constructor.name] = { result: out.result, pass: out.pass, scoreModifier: modifier };
}
const score = uncurved >= MINIMUM_SCORE_FOR_EXTRA_CREDIT ? withExtra : uncurved;
const final = getGradeForScore(score);
process.stdout.write(JSON.stringify({ score: final.score, grade: final.grade, tests }) + '\n');
