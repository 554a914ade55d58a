/** The gateway's chain built up one filter at a time, as bench/chain-cost.ts and bench/chain-instructions.ts measure it. */

/** Name and config entry of each filter, in the order they are added. */
export const CHAIN_FILTERS: ReadonlyArray<readonly [name: string, entry: string]> = [
  ['auth', '  - name: auth\n    config: { source: static }\n'],
  ['rate-limit', '  - name: rate-limit\n'],
  ['audit', '  - name: audit\n    config: { stdout: false, file: "${AUDIT_FILE}" }\n'],
  ['validator', '  - name: validator\n    config: { max_tokens: 64000 }\n'],
];

/** A config with the first `filters` of {@link CHAIN_FILTERS}; the port, mock and audit file come from the environment. */
export function chainConfig(filters: number): string {
  return `server: { port: "\${AI_GATEWAY_PORT}" }
providers:
  anthropic: { base_url: "\${MOCK_UPSTREAM}", api_key: sk-bench }
filters:${filters === 0 ? ' []' : ''}
${CHAIN_FILTERS.slice(0, filters)
  .map((f) => f[1])
  .join('')}workspaces:
  ws-bench: { user: bench, project: perf }
rate_limits:
  global: { requests_per_minute: 100000000, tokens_per_minute: 100000000000 }
  default: { requests_per_minute: 100000000, tokens_per_minute: 100000000000 }
`;
}

/** What an arm of {@link chainConfig}`(n)` is called in a table. */
export function chainStepName(filters: number): string {
  return filters === 0 ? 'gateway, no filters' : `+ ${CHAIN_FILTERS[filters - 1][0]}`;
}
