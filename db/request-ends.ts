/**
 * One channel for every schema; the payload names the schema (see docs/architecture.md). The
 * trigger of migration 025 notifies it when a request ends.
 */
export const requestEndsChannel = 'podium_request_ends';
