/**
 * The compact-encoding thresholds (hash-max-listpack-entries and friends), read by the value classes when they
 * decide what OBJECT ENCODING to report. The agent stores every collection the same way whatever its size; the
 * thresholds only decide the *reported* encoding, which must be what Redis 7.0 would report for the same history
 * of operations (a value that outgrew the compact form never goes back to it).
 *
 * One module-level object, kept in sync with the configuration by `bindEncodingLimits`, so that values built
 * outside a command (RDB loading, replication) apply the same rules without being handed the config.
 */
import type { Config } from '../config/config';

export interface EncodingLimits {
  hashMaxListpackEntries: number;
  hashMaxListpackValue: number;
  setMaxIntsetEntries: number;
  zsetMaxListpackEntries: number;
  zsetMaxListpackValue: number;
}

/** Redis 7.0's defaults. */
export const encodingLimits: EncodingLimits = {
  hashMaxListpackEntries: 128,
  hashMaxListpackValue: 64,
  setMaxIntsetEntries: 512,
  zsetMaxListpackEntries: 128,
  zsetMaxListpackValue: 64,
};

const DIRECTIVES: Array<[keyof EncodingLimits, string]> = [
  ['hashMaxListpackEntries', 'hash-max-listpack-entries'],
  ['hashMaxListpackValue', 'hash-max-listpack-value'],
  ['setMaxIntsetEntries', 'set-max-intset-entries'],
  ['zsetMaxListpackEntries', 'zset-max-listpack-entries'],
  ['zsetMaxListpackValue', 'zset-max-listpack-value'],
];

/** Reads the thresholds from the configuration now and whenever CONFIG SET changes them. */
export function bindEncodingLimits(config: Config): void {
  for (const [field, directive] of DIRECTIVES) {
    encodingLimits[field] = config.getInt(directive);
    config.onChange(directive, (v) => {
      encodingLimits[field] = Number(v);
    });
  }
}
