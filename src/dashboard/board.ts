/**
 * bull-board, for queue internals: its UI at `/queue/<name>` and its API under `/api`. `/` is the
 * packages page (packages/routes.ts, mounted before it); app.ts loads this module on first use.
 */
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import type { Queue } from 'bullmq';
import type { Router } from 'express';
import { displayJobName } from '../queue/job-name.js';
import { formatJobData } from './mask.js';

/**
 * Editing job data is refused even on a writable board: the editor is filled with the masked
 * data, so saving it would store `passcode=***` in the job and break its download.
 */
const UPDATE_DATA_ROUTE = '/api/queues/:queueName/:jobId/update-data';

export interface BoardOptions {
  readOnly: boolean;
  title?: string;
}

export function boardRouter(queues: readonly Queue[], options: BoardOptions): Router {
  const serverAdapter = new ExpressAdapter();
  serverAdapter.setBasePath('/');
  const adapters = queues.map((queue) => {
    const adapter = new BullMQAdapter(queue, { readOnlyMode: options.readOnly });
    adapter.setFormatter('data', formatJobData);
    // the package's name for people (masked), the same one `status` and the packages page show
    adapter.setFormatter('name', displayJobName);
    return adapter;
  });
  createBullBoard({
    queues: adapters,
    serverAdapter,
    options: {
      uiConfig: {
        boardTitle: options.title ?? 'faspex-ingest',
        // Job details open on Data (the link, masked, and where it came from), which is what
        // people look for first.
        jobDetails: { defaultTab: 'Data' },
        // The Docs icon links to bull-board's site, which means nothing to an operator here.
        hideDocsLink: true,
      },
      handlerHooks: {
        before: ({ route }) =>
          route === UPDATE_DATA_ROUTE ? { allow: false, status: 405, errorKey: 'ERRORS.QUEUE_READ_ONLY', message: 'job data is shown masked and cannot be edited here' } : undefined,
      },
    },
  });
  return serverAdapter.getRouter() as Router;
}
