/* genesisd's service-manager notifications (systemd's sd_notify protocol, Type=notify):
 * READY=1 once it serves, RELOADING=1 ... READY=1 around a configuration reload, STOPPING=1
 * when it begins to stop, each with a STATUS= line for `systemctl status`. A no-op unless the
 * manager set NOTIFY_SOCKET, and when genesisd is built without libsystemd. Thread-safe. */
#ifndef GENESISD_DAEMON_NOTIFY_H
#define GENESISD_DAEMON_NOTIFY_H

/* Ready: serving on every listener (status: one line for `systemctl status`). */
void daemon_notify_ready(const char *status);

/* A reload begins; daemon_notify_ready tells its end (whatever its outcome). */
void daemon_notify_reloading(void);

/* The daemon begins to stop (draining requests, stopping children). */
void daemon_notify_stopping(void);

#endif /* GENESISD_DAEMON_NOTIFY_H */
