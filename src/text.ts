/**
 * Characters no name or search may hold: C0 and C1 controls (NUL, tab, newline, DEL, U+0080–U+009F),
 * the line and paragraph separators U+2028/U+2029 (line breaks to many readers), and unpaired
 * surrogates (`\p{Cs}` matches only lone ones in a `u` regex), which the database driver would
 * silently store as U+FFFD. PostgreSQL cannot store NUL at all.
 */
export const NOT_PLAIN_TEXT = /[\p{Cc}\p{Cs}\u2028\u2029]/u;
