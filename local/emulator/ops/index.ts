import type { Operation } from '../types';
import { deleteMultipleObjects } from './delete-objects';
import { listObjects, listObjectsV2 } from './list-objects';
import { deleteObject, getObject, headObject, putObject } from './objects';

/** The core object operations; the LiveChannel operations are mounted before these. */
export const objectOperations: readonly Operation[] = [
  putObject,
  getObject,
  headObject,
  deleteObject,
  listObjectsV2,
  listObjects,
  deleteMultipleObjects,
];
