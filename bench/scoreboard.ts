/**
 * The rows of the final table, and the comparisons we lose, each with why. A comparison is ours
 * against one peer (or a bound) on one figure; the ratio is always ours / theirs.
 */
import { ratio } from './format.js';

/** One figure, ours against another's. */
export interface Comparison {
  /** The row's first cell: the scenario and the figure. */
  scenario: string;
  ours: number | undefined;
  theirs: number | undefined;
  /** Whom we compare with, e.g. `pg-boss`. */
  who: string;
  /** Which way is better. */
  better: 'higher' | 'lower';
  /** How to write a figure. */
  format: (n: unknown) => string;
  /** Why we lose, said when we do (by more than `TIE`). */
  why: string;
  /** Text after the other figure. Default: `(who)`. */
  note?: string;
  /** The cells' text, when more than the compared figure is shown (e.g. p50 / p99 / max). */
  oursText?: string;
  theirsText?: string;
  /** Before the ratio, e.g. `p99 `. */
  ratioLabel?: string;
  /** A second figure compared the same way (e.g. p50 beside p99): losing on either is a loss. */
  secondary?: { label: string; ours: number | undefined; theirs: number | undefined };
}

/** Ratios within this of 1 are ties, not losses: single runs move by that much under load. */
export const TIE = 0.05;

export class Scoreboard {
  readonly rows: string[][] = [['Scenario', 'ours', 'peer / bound', 'ratio (ours / other)']];
  readonly losses: string[] = [];

  /** A row as it is (figures that are not a comparison). */
  row(scenario: string, ours: string, other = '', ratioText = ''): void {
    this.rows.push([scenario, ours, other, ratioText]);
  }

  /** A comparison row; a loss is also listed, with its reason. */
  compare(c: Comparison): void {
    const loses = (ours: number | undefined, theirs: number | undefined): boolean => {
      const r = typeof ours === 'number' && typeof theirs === 'number' ? ours / theirs : NaN;
      return c.better === 'higher' ? r < 1 - TIE : r > 1 + TIE;
    };
    const main = `${c.ratioLabel ?? ''}${ratio(c.ours, c.theirs)}`;
    const second = c.secondary;
    const rate = second ? `${second.label}${ratio(second.ours, second.theirs)}, ${main}` : main;
    const lost =
      loses(c.ours, c.theirs) || (second !== undefined && loses(second.ours, second.theirs));
    const oursText = c.oursText ?? c.format(c.ours);
    const theirsText = c.theirsText ?? c.format(c.theirs);
    this.rows.push([
      c.scenario,
      oursText,
      `${theirsText} ${c.note ?? `(${c.who})`}`,
      `${rate}${lost ? ', we lose' : ''}`,
    ]);
    if (lost) {
      this.losses.push(
        `${c.scenario}: ours ${oursText}, ${c.who} ${theirsText} (${rate}). ${c.why}`,
      );
    }
  }
}
