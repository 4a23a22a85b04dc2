/* counters.c — names and descriptions of the stack's counters, generated
 * from the one list in finack/counters.h. */
#include <finack/counters.h>
#include <stddef.h>

static const char *const names[] = {
#define FA_COUNTER_NAME(name, kind, desc) #name,
    FA_COUNTERS(FA_COUNTER_NAME)
#undef FA_COUNTER_NAME
};
static const char *const descriptions[] = {
#define FA_COUNTER_DESC(name, kind, desc) desc,
    FA_COUNTERS(FA_COUNTER_DESC)
#undef FA_COUNTER_DESC
};
enum kind { KIND_traffic, KIND_event, KIND_drop };
static const unsigned char kinds[] = {
#define FA_COUNTER_KIND(name, kind, desc) KIND_##kind,
    FA_COUNTERS(FA_COUNTER_KIND)
#undef FA_COUNTER_KIND
};

const char *fa_counter_name(unsigned id)
{
    if (id >= FA_CNT_COUNT)
        return NULL;
    return names[id];
}

const char *fa_counter_description(unsigned id)
{
    return id < FA_CNT_COUNT ? descriptions[id] : NULL;
}

int fa_counter_is_drop(unsigned id)
{
    return id < FA_CNT_COUNT && kinds[id] == KIND_drop;
}
