// Debian's librdkafka-dev.
#include <librdkafka/rdkafka.h>
