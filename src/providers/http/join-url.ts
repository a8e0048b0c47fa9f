/** `base` as configured (with or without a trailing slash) plus an absolute path. */
export const joinUrl = (base: string, path: string): string => `${base.replace(/\/+$/, '')}${path}`;
