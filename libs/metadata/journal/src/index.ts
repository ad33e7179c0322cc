export { JournalMetadata, DEFAULT_COMPACTION_BYTES, type JournalMetadataOptions } from './journal-metadata';
export type { JournalStats } from './journal-log';
