import { api, fill, el, keyField, showStatus } from './common.js';

async function load() {
  const stats = document.getElementById('stats');
  try {
    const s = await api('/v1/graph/stats');
    fill(
      stats,
      el(
        'p',
        {},
        `${s.nodes.user} users, ${s.nodes.session} sessions, ${s.nodes.item} items, ${s.nodes.tag} tags; `,
        `${Object.entries(s.edges)
          .filter(([t]) => t !== 'has_tag')
          .reduce((n, [, c]) => n + c, 0)} interactions.`,
      ),
      s.communities
        ? el('p', {}, `${s.communities.count} interest communities (modularity ${s.communities.modularity.toFixed(3)}, computed ${s.communities.computedAt}).`)
        : null,
    );
    showStatus('');
  } catch (error) {
    stats.textContent = '';
    showStatus(error.message, 'error');
  }
}

keyField(load);
load();
