/** One row of the bench table. Figures are medians of repeated runs; ratios come from one run. */
export interface Row {
  /** e.g. "signer V4 sig/s". */
  name: string;
  /** Our figure, formatted with its unit ("210,000", "12.3 ms"). */
  ours?: string;
  /** The peer's figure from the same run, and who the peer is ("ali-oss 35,000"). */
  peer?: string;
  /** ours relative to the peer or to the limit ("×6.0", "94 %"). */
  ratio?: string;
  target: string;
  /** true / false, or undefined when there is no figure to judge. */
  met?: boolean;
  /** Why there is no figure. */
  notMeasured?: string;
  /** Raw numbers for latest.json. */
  raw?: Record<string, unknown>;
}

export interface BenchOptions {
  quick: boolean;
  /** --huge: the 1,000,000-object cleanup too. */
  huge: boolean;
  /** Progress on stderr. */
  progress(message: string): void;
}

export interface BenchSection {
  /** `--only <name>` selects it. */
  name: string;
  title: string;
  run(opts: BenchOptions): Promise<Row[]>;
}
