/* country.h — country of origin of a phone number from its E.164 calling code.
 *
 * The table is compiled in (src/report/country.c is its only source): ITU-T
 * E.164 country codes, plus the longer prefixes that tell apart countries
 * sharing a code (the Caribbean members of NANP under +1, Kazakhstan under
 * +7, the Crown Dependencies under +44, ...). The longest matching prefix
 * wins. +1 outside the listed area codes is "US/CA": the United States and
 * Canada share the plan and their area codes are not listed here.
 */
#ifndef CALLQ_COUNTRY_H
#define CALLQ_COUNTRY_H

struct country {
	const char *prefix;   /* calling code digits, without '+' */
	const char *iso;      /* ISO 3166-1 alpha-2, or "US/CA" */
	const char *name;
};

/* The entry for an international number ("+CC..." or "00CC...", spaces,
 * dashes, dots and parentheses ignored), or NULL for a national or local
 * number, or a code not in the table. */
const struct country *country_lookup(const char *number);
/* country_lookup's ISO code, or "" when there is none. */
const char *country_of(const char *number);

#endif
