/* Fuzz target: a status report as genesisctl and the bindings receive it from a coordinator
 * (an encoded genesis.v1.StatusReport), rendered to the status JSON document, checkpoint and
 * supervision fields included (wire/status_json.c, wire/checkpoint_json.c). Invariant: a report
 * that decodes always renders to a valid JSON object, whatever its strings, counts and enums. */
#include <jansson.h>

#include "fuzz_target.h"
#include "genesis/genesis.h"
#include "wire/status_json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    Genesis__V1__StatusReport *report = genesis__v1__status_report__unpack(NULL, size, data);
    if (report == NULL)
        return 0;
    genesis_result *res = gn_status_report_json(report);
    FUZZ_CHECK(res != NULL);
    if (genesis_result_status(res) == GENESIS_OK) {
        size_t len = 0;
        const char *text = genesis_result_data(res, &len);
        json_error_t err;
        json_t *doc = json_loadb(text, len, JSON_ALLOW_NUL, &err);
        FUZZ_CHECK(doc != NULL && json_is_object(doc));
        json_decref(doc);
    } else {
        FUZZ_CHECK(genesis_result_message(res)[0] != '\0');
    }
    genesis_result_free(res);
    genesis__v1__status_report__free_unpacked(report, NULL);
    return 0;
}
