import type { Config } from '../config/config.ts';
import { createService } from '../service.ts';
import { createHttpServer, listen } from '../http/node-server.ts';
import { writePidFile } from './pid-file.ts';

export class ServeError extends Error {
  override name = 'ServeError';
}

/** Runs the server until SIGINT/SIGTERM, then drains delivery and closes the store. */
export async function serve(config: Config): Promise<void> {
  const service = await createService(config);
  const { logger } = service;
  if (config.dev) {
    logger.warn(
      'DEV MODE: callbacks may target http:// and private or loopback addresses. ' +
        'Never run --dev where untrusted clients can create channels.',
    );
  }
  const server = createHttpServer({
    fetch: service.app.fetch,
    limits: config.http,
    errorBody: service.errorBody,
  });
  try {
    await listen(server, config.port, config.host);
  } catch (err) {
    await service.stop();
    const code = (err as { code?: string }).code;
    throw new ServeError(
      code === 'EADDRINUSE'
        ? `port ${config.port} on ${config.host} is already in use (choose another with --port)`
        : `cannot listen on ${config.host}:${config.port}: ${(err as Error).message}`,
    );
  }
  await service.start();
  const removePidFile = writePidFile(config.dataDir);
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  logger.info(
    { url: `http://${config.host}:${port}`, store: service.store.location, node: process.version },
    'calpush listening',
  );
  // A line tests and scripts can wait for, whatever the log level.
  process.stdout.write(`calpush listening on http://${config.host}:${port}\n`);

  await new Promise<void>((resolve) => {
    const shutdown = (signal: string) => {
      logger.info({ signal }, 'shutting down');
      resolve();
    };
    process.once('SIGINT', shutdown);
    process.once('SIGTERM', shutdown);
  });
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await service.stop();
  removePidFile();
}
