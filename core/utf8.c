/* core/utf8.c - the check of names and strings that files and module
 * descriptions hold as JSON, built with or without file formats (module
 * descriptions need it either way). */
#include "internal/file.h"

/* Whether s is UTF-8 as JSON needs it (RFC 3629: shortest forms, no
 * surrogates, nothing above U+10FFFF); Jansson refuses any other key. */
bool tg__is_utf8(const char *s) {
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        unsigned c = *p++;
        int more = c < 0x80                ? 0
                   : c >= 0xc2 && c < 0xe0 ? 1
                   : c >= 0xe0 && c < 0xf0 ? 2
                   : c >= 0xf0 && c < 0xf5 ? 3
                                           : -1;
        if (more < 0) return false;
        unsigned code = more ? c & (0x3f >> more) : c;
        for (int k = 0; k < more; k++, p++) {
            if ((*p & 0xc0) != 0x80) return false;
            code = code << 6 | (*p & 0x3f);
        }
        static const unsigned least[4] = {0, 0x80, 0x800, 0x10000};
        if (code < least[more] || code > 0x10ffff || (code >= 0xd800 && code < 0xe000))
            return false;
    }
    return true;
}
