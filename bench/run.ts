/**
 * `npm run bench`: runs each scenario in a fresh child process (clean heap figures), prints its
 * figures as it ends, then a markdown table for the README (ratios are ours / the other's) and where
 * we lose, with why. Asserts nothing.
 *
 *   npm run bench -- --results=bench/RESULTS.md    also writes the results file
 *   npm run bench -- --sections=persist,startup    some sections only (default: all)
 *
 * Sections: burst (1), drain (2), persist (3), cluster (4), startup (5), history (6), admin (7).
 */
import { writeResults } from './results-file.js';
import { busyProcesses, machineLines, uptime } from './machine.js';
import { markdownTable } from './format.js';
import { peers } from './peers.js';
import { Scoreboard } from './scoreboard.js';
import { adminSection } from './section-admin.js';
import { burstSection } from './section-burst.js';
import { clusterSection } from './section-cluster.js';
import { drainSection } from './section-drain.js';
import { historySection } from './section-history.js';
import { persistSection } from './section-persist.js';
import { startupSection } from './section-startup.js';
import { Transcript } from './transcript.js';

const SECTIONS = ['burst', 'drain', 'persist', 'cluster', 'startup', 'history', 'admin'] as const;
const argument = (name: string): string | undefined =>
  process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const chosen = argument('sections')?.split(',') ?? [...SECTIONS];
for (const s of chosen) {
  if (!(SECTIONS as readonly string[]).includes(s)) {
    throw new Error(`--sections: unknown section ${s} (known: ${SECTIONS.join(', ')})`);
  }
}
const results = argument('results');

const out = new Transcript();
const board = new Scoreboard();
const machine = machineLines();
const loadBefore = uptime();
const busyBefore = await busyProcesses();
const peerList = peers();
out.write(`${machine.join('\n')}\n`);
out.write(
  `uptime:  ${loadBefore} (other processes, e.g. test suites, may share these cores: figures move with the load)\n`,
);
out.write(`busy:    other processes using 10% of a core or more, over 1 s: ${busyBefore}\n`);
out.write(`peers:   ${peerList.map((p) => `${p.name} ${p.version}`).join(', ')}\n`);
for (const p of peerList) out.write(`  ${p.name}: ${p.settings} (${p.docs})\n`);
const started = performance.now();

if (chosen.includes('burst')) await burstSection(out, board);
if (chosen.includes('drain')) await drainSection(out, board);
const pgReachable = chosen.includes('persist') ? await persistSection(out, board) : true;
if (chosen.includes('cluster')) await clusterSection(out, board, pgReachable);
if (chosen.includes('startup')) await startupSection(out, board, pgReachable);
if (chosen.includes('history')) await historySection(out, board, pgReachable);
if (chosen.includes('admin')) await adminSection(out, board, pgReachable);

out.write(`\n${markdownTable(board.rows)}\n`);
out.write(`\nWhere we lose (ours worse by more than 5%), and why:\n`);
out.write(board.losses.length === 0 ? '  nowhere\n' : board.losses.map((l) => `- ${l}\n`).join(''));
const seconds = (performance.now() - started) / 1000;
const loadAfter = uptime();
const busyAfter = await busyProcesses();
out.write(
  `\n(total ${seconds.toFixed(0)} s)\nuptime before: ${loadBefore}\nuptime after:  ${loadAfter}\n` +
    `busy after (other processes, 10% of a core or more over 1 s): ${busyAfter}\n`,
);

if (results !== undefined) {
  writeResults(results, {
    sections: chosen,
    machine,
    loadBefore,
    loadAfter,
    busyBefore,
    busyAfter,
    seconds,
    peers: peerList,
    table: board.rows,
    losses: board.losses,
    printout: out.text(),
  });
  process.stdout.write(`results written to ${results}\n`);
}
