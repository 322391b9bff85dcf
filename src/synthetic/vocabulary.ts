/**
 * Small built-in word lists so that synthetic topics, tags and titles read like a catalogue: a person
 * looking at an explanation ("because you liked Space Opera #12") can tell at a glance whether it makes sense.
 */

export const TOPIC_NAMES: readonly string[] = [
  'Space Opera',
  'Cozy Mystery',
  'Epic Fantasy',
  'Noir Thriller',
  'Historical Romance',
  'Gothic Horror',
  'Cyberpunk',
  'True Crime',
  'Military History',
  'Hard Science Fiction',
  'Urban Fantasy',
  'Jazz Standards',
  'Indie Folk',
  'Synthwave',
  'Baroque Music',
  'Street Photography',
  'Woodworking',
  'Home Gardening',
  'Vegan Cooking',
  'Board Games',
  'Retro Gaming',
  'Chess Strategy',
  'Marine Biology',
  'Amateur Astronomy',
  'Ancient Philosophy',
  'Startup Stories',
  'Personal Finance',
  'Mindful Living',
  'Urban Sketching',
  'Classic Cars',
  'Mountain Hiking',
  'Culinary Travel',
];

/** Facets within a topic; a topic's tags are `<topic-slug>:<word>`, so the same word in two topics stays two tags. */
export const TAG_WORDS: readonly string[] = [
  'beginner',
  'advanced',
  'illustrated',
  'dark',
  'uplifting',
  'slow-burn',
  'fast-paced',
  'technical',
  'witty',
  'epic',
  'intimate',
  'rural',
  'urban',
  'coastal',
  'nocturnal',
  'vintage',
  'modern',
  'minimalist',
  'lavish',
  'series',
  'standalone',
  'experimental',
  'traditional',
  'regional',
  'seasonal',
  'collaborative',
  'solo',
  'documentary',
  'satirical',
  'lyrical',
  'academic',
  'hands-on',
];

/** Tags shared across topics, given to a few items, so topics are not perfectly separable by tags. */
export const GLOBAL_TAGS: readonly string[] = [
  'global:bestseller',
  'global:new-release',
  'global:staff-pick',
  'global:award-winner',
  'global:on-sale',
  'global:limited-edition',
];

export const TITLE_ADJECTIVES: readonly string[] = [
  'Silent',
  'Crimson',
  'Hidden',
  'Last',
  'Golden',
  'Broken',
  'Distant',
  'Quiet',
  'Burning',
  'Forgotten',
  'Hollow',
  'Endless',
  'Gentle',
  'Iron',
  'Midnight',
  'Northern',
  'Restless',
  'Shattered',
  'Velvet',
  'Wandering',
  'Bright',
  'Frozen',
  'Lonely',
  'Secret',
];

export const TITLE_NOUNS: readonly string[] = [
  'Harbor',
  'Garden',
  'Signal',
  'Orchard',
  'Lantern',
  'Archive',
  'Compass',
  'Engine',
  'Meadow',
  'Citadel',
  'River',
  'Library',
  'Voyage',
  'Workshop',
  'Horizon',
  'Kingdom',
  'Machine',
  'Mirror',
  'Station',
  'Tide',
  'Valley',
  'Winter',
  'Observatory',
  'Crossing',
];

/** Readable name for topic `index`; past the built-in list the names repeat with a number ("Space Opera 2"). */
export function topicName(index: number): string {
  const base = TOPIC_NAMES[index % TOPIC_NAMES.length]!;
  const round = Math.floor(index / TOPIC_NAMES.length);
  return round === 0 ? base : `${base} ${round + 1}`;
}

/** `tagIndex`-th facet word; past the built-in list the words repeat with a number. */
export function tagWord(tagIndex: number): string {
  const base = TAG_WORDS[tagIndex % TAG_WORDS.length]!;
  const round = Math.floor(tagIndex / TAG_WORDS.length);
  return round === 0 ? base : `${base}-${round + 1}`;
}

export function slugOf(name: string): string {
  return name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '');
}
