/* The checkpoint and supervision fields of the status JSON document (wire/checkpoint_json.h). */
#include "wire/checkpoint_json.h"

static const char *str(const char *s)
{
    return s != NULL ? s : "";
}

#define INT(v) json_integer((json_int_t)(v))

void gn_checkpoint_json_component(const Genesis__V1__ComponentStatus *cs, json_t *component)
{
    json_t *ck = json_object();
    if (ck == NULL)
        return;
    json_object_set_new(ck, "generation", INT(cs->checkpoint_generation));
    json_object_set_new(ck, "size", INT(cs->checkpoint_size));
    /* -1 (none) from this coordinator; 0 from an old one that lacks the field. */
    json_object_set_new(ck, "age_ms",
                        cs->checkpoint_generation > 0 ? INT(cs->checkpoint_age_ms) : json_null());
    json_object_set_new(ck, "written", INT(cs->checkpoints_written));
    json_object_set_new(ck, "failures", INT(cs->checkpoint_failures));
    json_object_set_new(ck, "error", json_string(str(cs->checkpoint_error)));
    json_object_set_new(component, "checkpoint", ck);
}

void gn_checkpoint_json_report(const Genesis__V1__StatusReport *r, json_t *doc)
{
    json_t *ck = json_object();
    json_t *sup = json_array();
    if (ck == NULL || sup == NULL) {
        json_decref(ck);
        json_decref(sup);
        return;
    }
    json_object_set_new(ck, "store", json_string(str(r->checkpoint_store)));
    json_object_set_new(ck, "written", INT(r->checkpoints_written));
    json_object_set_new(ck, "failures", INT(r->checkpoint_failures));
    json_object_set_new(ck, "corrupt", INT(r->checkpoints_corrupt));
    json_object_set_new(doc, "checkpoints", ck);
    for (size_t i = 0; i < r->n_supervised; i++) {
        const Genesis__V1__SupervisedChild *sc = r->supervised[i];
        json_t *c = json_object();
        if (c == NULL)
            continue;
        json_object_set_new(c, "id", json_string(str(sc->id)));
        json_object_set_new(c, "state", json_string(str(sc->state)));
        json_object_set_new(c, "pid", INT(sc->pid));
        json_object_set_new(c, "restarts", INT(sc->restarts));
        json_object_set_new(c, "last_exit", json_string(str(sc->last_exit)));
        json_object_set_new(c, "uptime_ms", INT(sc->uptime_ms));
        json_array_append_new(sup, c);
    }
    json_object_set_new(doc, "supervised", sup);
}
