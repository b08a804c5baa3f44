// Node's Buffer has fast latin1 conversions that @types/node does not declare. The agent keeps every key and
// value as a latin1 string (one char per byte), so these are on its hottest path.
export {};

declare global {
  interface Buffer {
    latin1Slice(start?: number, end?: number): string;
    latin1Write(value: string, offset?: number, length?: number): number;
  }
}
