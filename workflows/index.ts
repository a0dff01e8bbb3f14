export { modelRequest, modelRequestStageQuery } from './model-request';
