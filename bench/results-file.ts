/**
 * The results file `npm run bench -- --results=FILE` writes: the machine, the date, the load before
 * and after, the peers with their versions, settings and docs, the table, where we lose and why,
 * and the whole printout.
 */
import { writeFileSync } from 'node:fs';
import { markdownTable } from './format.js';
import type { Peer } from './peers.js';

export interface Results {
  /** The sections run, e.g. `burst, drain, persist, cluster, startup` (all of them: a whole run). */
  sections: string[];
  machine: string[];
  /** `uptime` before and after the run. */
  loadBefore: string;
  loadAfter: string;
  /** Other processes busy on the machine just before and just after the run. */
  busyBefore: string;
  busyAfter: string;
  seconds: number;
  peers: Peer[];
  table: string[][];
  losses: string[];
  printout: string;
}

export function writeResults(file: string, r: Results): void {
  const peerRows = [
    ['Peer', 'Version', 'Settings', 'Documented at'],
    ...r.peers.map((p) => [p.name, p.version, p.settings, p.docs]),
  ];
  const text = [
    '# Benchmark results',
    '',
    `Written by \`npm run bench -- --results=${file}\` (sections ${r.sections.join(', ')}; ${r.seconds.toFixed(0)} s).` +
      ' Rerun it the same way; `bench/README.md` says what each figure is.',
    '',
    '## Machine and load',
    '',
    '```',
    ...r.machine,
    `uptime before: ${r.loadBefore}`,
    `uptime after:  ${r.loadAfter}`,
    '```',
    '',
    'Other processes (test suites of other work, say) may have run on the same cores during the run:' +
      ' the load averages show how busy the machine was, and timing figures drop under load.' +
      ' Other processes using a tenth of a core or more (over 1 s):',
    '',
    `- just before the run: ${r.busyBefore}`,
    `- just after it: ${r.busyAfter}`,
    '',
    '## Peers and their settings',
    '',
    markdownTable(peerRows),
    '',
    '## Figures',
    '',
    markdownTable(r.table),
    '',
    '## Where we lose, and why',
    '',
    ...(r.losses.length === 0 ? ['Nowhere in this run.'] : r.losses.map((l) => `- ${l}`)),
    '',
    '## The whole printout',
    '',
    '```',
    r.printout.trimEnd(),
    '```',
    '',
  ];
  writeFileSync(file, text.join('\n'));
}
