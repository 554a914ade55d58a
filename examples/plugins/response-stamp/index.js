// An external filter plugin, written only against the public contract (`ai-gateway`'s
// exported types). It stamps each response with a header and counts what it stamped.
// Load it from config:
//
//   filters:
//     - name: stamp
//       plugin: ./examples/plugins/response-stamp/index.js   # relative to the config file
//       config: { header: x-gateway-stamp, value: team-a }

/** @typedef {{ header: string, value: string }} StampConfig */

/** @type {import('ai-gateway').FilterPlugin<StampConfig>} */
const plugin = {
  name: 'response-stamp',
  apiVersion: 1,
  configSchema: {
    type: 'object',
    additionalProperties: false,
    required: ['value'],
    properties: {
      header: { type: 'string', pattern: '^[a-z0-9-]+$', default: 'x-gateway-stamp' },
      value: { type: 'string', minLength: 1 },
    },
  },
  create(config, env) {
    // get-or-create: a reload creates this filter again and gets the same counter back.
    // fastCounter: counted on every request, so its label child is found by a Map lookup
    // and incremented as a number (`counter()` would validate and hash the labels each time).
    const stamped = env.metrics.fastCounter({ name: 'example_stamped_responses_total', help: 'Responses stamped by the example filter', labelNames: ['route'] });
    return {
      onResponse(ctx, head) {
        head.headers[config.header] = config.value;
      },
      onComplete(ctx) {
        stamped.inc({ route: ctx.route.name });
      },
    };
  },
};

export default plugin;
