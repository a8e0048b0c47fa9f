// The whole UI is Preact with htm tagged templates (no JSX, so the project's
// one tsconfig type-checks these files as they are). The DOM library is
// referenced here for the browser code.
/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
export { html, render } from 'htm/preact';
export type { ComponentChildren, VNode } from 'preact';
export { useCallback, useEffect, useMemo, useRef, useState } from 'preact/hooks';
