import type { Client } from '@temporalio/client';
import type { DatabasePool } from 'slonik';

/** What an activity needs that reads the database and signals or starts workflows on the task queue. */
export type SignalDeps = { db: DatabasePool; temporal: Client; taskQueue: string };
