// Display formatting only: amounts arrive as exact decimal strings and are
// never summed here in floating point for anything but a chart.

const formatters = new Map<string, Intl.NumberFormat>();

function currencyFormat(currency: string, digits: number): Intl.NumberFormat {
  const id = `${currency}:${digits}`;
  let f = formatters.get(id);
  if (!f) {
    try {
      f = new Intl.NumberFormat('en-US', { style: 'currency', currency, minimumFractionDigits: 2, maximumFractionDigits: digits });
    } catch {
      f = new Intl.NumberFormat('en-US', { minimumFractionDigits: 2, maximumFractionDigits: digits });
    }
    formatters.set(id, f);
  }
  return f;
}

/** "12.5" → "$12.50"; small amounts keep enough digits to be seen ("$0.000021"). */
export function money(value: string | number | null | undefined, currency = 'USD'): string {
  const n = Number(value ?? 0);
  if (!Number.isFinite(n)) return String(value);
  const abs = Math.abs(n);
  const digits = abs === 0 || abs >= 100 ? 2 : abs >= 1 ? 4 : 6;
  return currencyFormat(currency, digits).format(n);
}

export const int = (n: number | null | undefined): string => (n ?? 0).toLocaleString('en-US');

/** 1234 → "1.2k", 3400000 → "3.4M". */
export function compact(n: number | null | undefined): string {
  const v = n ?? 0;
  const abs = Math.abs(v);
  if (abs >= 1e9) return `${(v / 1e9).toFixed(abs >= 1e10 ? 0 : 1)}B`;
  if (abs >= 1e6) return `${(v / 1e6).toFixed(abs >= 1e7 ? 0 : 1)}M`;
  if (abs >= 1e3) return `${(v / 1e3).toFixed(abs >= 1e4 ? 0 : 1)}k`;
  return String(Math.round(v * 100) / 100);
}

export const ms = (n: number | null | undefined): string => (n === null || n === undefined ? '–' : n >= 1000 ? `${(n / 1000).toFixed(2)} s` : `${Math.round(n)} ms`);

export const percent = (ratio: number | null | undefined): string => (ratio === null || ratio === undefined ? '–' : `${(ratio * 100).toFixed(ratio >= 0.995 || ratio === 0 ? 0 : 1)}%`);

export function time(iso: string | number | Date): string {
  return new Date(iso).toLocaleTimeString('en-GB', { hour: '2-digit', minute: '2-digit', second: '2-digit' });
}

export function ago(iso: string | null | undefined): string {
  if (!iso) return '';
  const s = Math.max(0, Math.round((Date.now() - new Date(iso).getTime()) / 1000));
  if (s < 60) return `${s}s ago`;
  if (s < 3600) return `${Math.floor(s / 60)}m ago`;
  if (s < 86_400) return `${Math.floor(s / 3600)}h ago`;
  return `${Math.floor(s / 86_400)}d ago`;
}
