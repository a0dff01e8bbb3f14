import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

/** Request workflows carry these, so the Temporal Web UI can filter by model and status. */
export const modelNameKey = defineSearchAttributeKey('ModelName', SearchAttributeType.KEYWORD);
export const requestStatusKey = defineSearchAttributeKey('RequestStatus', SearchAttributeType.KEYWORD);

/** For `temporal server start-dev --search-attribute …`. */
export const searchAttributeFlags = ['ModelName=Keyword', 'RequestStatus=Keyword'];
