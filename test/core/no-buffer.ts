// Loaded with --import before anything else: the process has no Buffer, as a browser does not.
delete (globalThis as { Buffer?: unknown }).Buffer;
export {};
