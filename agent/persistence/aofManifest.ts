/**
 * Redis 7's multi-part AOF layout: a directory (appenddirname) holding one *base* file (the dataset at the last
 * rewrite: an RDB file `<appendfilename>.<seq>.base.rdb`, or commands `.base.aof` without the RDB preamble), the
 * *incr* files with the commands written since (`<appendfilename>.<seq>.incr.aof`, the last one is being appended
 * to), and a *manifest* (`<appendfilename>.manifest`) that names them, one per line:
 *
 *   file appendonly.aof.2.base.rdb seq 2 type b
 *   file appendonly.aof.2.incr.aof seq 2 type i
 *
 * Type `h` (history) marks files a rewrite made obsolete, waiting to be deleted. Lines starting with '#' are
 * comments. Names containing spaces or odd bytes are quoted (sdscatrepr) as Redis does. The manifest is always
 * replaced atomically (temp file, fsync, rename), so the set of files it names is consistent at every instant.
 */
import { closeSync, fsyncSync, openSync, renameSync, writeSync } from 'node:fs';
import path from 'node:path';
import { reprString } from '../resp/repr';
import { splitInlineArgs } from '../resp/parser';
import { fsyncDir } from './rdbFile';

/** Longest manifest line accepted (Redis: MANIFEST_MAX_LINE). */
export const MANIFEST_MAX_LINE_BYTES = 1024;

export type AofFileType = 'b' | 'h' | 'i';

export interface AofFileInfo {
  name: string;
  seq: number;
  type: AofFileType;
}

export class AofManifestError extends Error {
  readonly code = 'AOF_MANIFEST';
}

export class AofManifest {
  base: AofFileInfo | null = null;
  incr: AofFileInfo[] = [];
  history: AofFileInfo[] = [];
  /** Highest sequence numbers used, so new names never collide. */
  currentBaseSeq = 0;
  currentIncrSeq = 0;

  constructor(readonly prefix: string) {}

  static parse(text: string, prefix: string, source: string): AofManifest {
    const m = new AofManifest(prefix);
    const lines = text.split('\n');
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i].replace(/\r$/, '');
      if (line.length > MANIFEST_MAX_LINE_BYTES) {
        throw new AofManifestError(`${source}: line ${i + 1} of the AOF manifest is too long`);
      }
      if (line.trim() === '' || line.startsWith('#')) continue;
      const words = splitInlineArgs(line);
      if (words === null || words.length % 2 !== 0) {
        throw new AofManifestError(`${source}: invalid AOF manifest line ${i + 1}: ${line}`);
      }
      let name: string | undefined;
      let seq: number | undefined;
      let type: string | undefined;
      for (let k = 0; k < words.length; k += 2) {
        const key = words[k];
        const value = words[k + 1];
        if (key === 'file') name = value;
        else if (key === 'seq') seq = /^\d+$/.test(value) ? Number(value) : NaN;
        else if (key === 'type') type = value;
        // unknown keys are ignored, as Redis does (room for future fields)
      }
      if (name === undefined || name === '' || seq === undefined || !Number.isSafeInteger(seq) || seq < 1) {
        throw new AofManifestError(`${source}: invalid AOF manifest line ${i + 1}: ${line}`);
      }
      if (name.includes('/') || name === '.' || name === '..') {
        throw new AofManifestError(`${source}: the AOF manifest names a file outside its directory: ${name}`);
      }
      const info: AofFileInfo = { name, seq, type: type as AofFileType };
      switch (type) {
        case 'b':
          if (m.base !== null) throw new AofManifestError(`${source}: the AOF manifest has two base files`);
          m.base = info;
          m.currentBaseSeq = seq;
          break;
        case 'i':
          if (m.incr.length > 0 && seq <= m.incr[m.incr.length - 1].seq) {
            throw new AofManifestError(`${source}: the incr files of the AOF manifest are out of order`);
          }
          m.incr.push(info);
          m.currentIncrSeq = seq;
          break;
        case 'h':
          m.history.push(info);
          break;
        default:
          throw new AofManifestError(`${source}: unknown file type '${type}' in AOF manifest line ${i + 1}`);
      }
    }
    if (m.base === null && m.incr.length === 0) {
      throw new AofManifestError(`${source}: the AOF manifest names no base and no incr file`);
    }
    return m;
  }

  format(): string {
    let out = '';
    const line = (f: AofFileInfo): string => {
      const name = /^[\x21-\x7e]+$/.test(f.name) && !f.name.includes('"') ? f.name : reprString(f.name);
      return `file ${name} seq ${f.seq} type ${f.type}\n`;
    };
    if (this.base !== null) out += line(this.base);
    for (const h of this.history) out += line(h);
    for (const f of this.incr) out += line(f);
    return out;
  }

  clone(): AofManifest {
    const m = new AofManifest(this.prefix);
    m.base = this.base === null ? null : { ...this.base };
    m.incr = this.incr.map((f) => ({ ...f }));
    m.history = this.history.map((f) => ({ ...f }));
    m.currentBaseSeq = this.currentBaseSeq;
    m.currentIncrSeq = this.currentIncrSeq;
    return m;
  }

  /** Files to load at startup, in order. */
  filesToLoad(): AofFileInfo[] {
    return this.base === null ? [...this.incr] : [this.base, ...this.incr];
  }

  get lastIncr(): AofFileInfo | null {
    return this.incr.length === 0 ? null : this.incr[this.incr.length - 1];
  }

  /** Adds a new incr file (the one appends go to from now on) and returns it. */
  addIncr(): AofFileInfo {
    const info: AofFileInfo = {
      name: `${this.prefix}.${++this.currentIncrSeq}.incr.aof`,
      seq: this.currentIncrSeq,
      type: 'i',
    };
    this.incr.push(info);
    return info;
  }

  /**
   * After a rewrite: `baseName` (already in the directory) becomes the base, every incr file before `keepFrom`
   * and the old base become history.
   */
  installRewrite(newBase: AofFileInfo, keepFrom: AofFileInfo | null): void {
    if (this.base !== null) this.history.push({ ...this.base, type: 'h' });
    const keep: AofFileInfo[] = [];
    let keeping = keepFrom === null;
    for (const f of this.incr) {
      if (!keeping && keepFrom !== null && f.name === keepFrom.name) keeping = true;
      if (keeping) keep.push(f);
      else this.history.push({ ...f, type: 'h' });
    }
    this.incr = keep;
    this.base = newBase;
  }

  /** A name for the next base file. */
  nextBase(rdbPreamble: boolean): AofFileInfo {
    const seq = this.currentBaseSeq + 1;
    return { name: `${this.prefix}.${seq}.base.${rdbPreamble ? 'rdb' : 'aof'}`, seq, type: 'b' };
  }

  commitBaseSeq(info: AofFileInfo): void {
    this.currentBaseSeq = Math.max(this.currentBaseSeq, info.seq);
  }

  /** Writes the manifest atomically into `dir`. */
  persist(dir: string): void {
    const target = path.join(dir, `${this.prefix}.manifest`);
    const temp = path.join(dir, `temp-${this.prefix}.manifest`);
    const fd = openSync(temp, 'w', 0o644);
    try {
      const data = Buffer.from(this.format(), 'latin1');
      let off = 0;
      while (off < data.length) off += writeSync(fd, data, off, data.length - off);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temp, target);
    fsyncDir(dir);
  }
}
