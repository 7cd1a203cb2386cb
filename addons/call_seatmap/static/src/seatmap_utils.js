/** @odoo-module **/

import { onMounted, onWillUnmount } from "@odoo/owl";
import { deserializeDateTime, serializeDateTime } from "@web/core/l10n/dates";
import { useService } from "@web/core/utils/hooks";

const { DateTime } = luxon;

export const SEATMAP_NOTIFICATION = "call_seatmap/changed";

/** UTC server string -> value of an <input type="datetime-local">. */
export function toInputValue(serverValue) {
    return deserializeDateTime(serverValue).toFormat("yyyy-MM-dd'T'HH:mm");
}

/** Value of an <input type="datetime-local"> -> UTC server string (or false). */
export function fromInputValue(inputValue) {
    const value = DateTime.fromISO(inputValue);
    return value.isValid ? serializeDateTime(value) : false;
}

/** Minutes since local midnight of a UTC server string (slider position). */
export function minutesOfDay(serverValue) {
    const value = deserializeDateTime(serverValue);
    return value.hour * 60 + value.minute;
}

/** Same local day as serverValue, at the given minute of the day. */
export function atMinuteOfDay(serverValue, minutes) {
    const day = deserializeDateTime(serverValue).startOf("day");
    return serializeDateTime(day.plus({ minutes }));
}

/**
 * Call ``callback`` (debounced) whenever a booking changes a room or table:
 * the server sends "call_seatmap/changed" to every call-centre agent.
 */
export function useSeatmapBus(callback, delay = 150) {
    const busService = useService("bus_service");
    let timer = null;
    const onNotification = (payload) => {
        clearTimeout(timer);
        timer = setTimeout(() => callback(payload), delay);
    };
    onMounted(() => {
        busService.subscribe(SEATMAP_NOTIFICATION, onNotification);
        busService.start();
    });
    onWillUnmount(() => {
        clearTimeout(timer);
        busService.unsubscribe(SEATMAP_NOTIFICATION, onNotification);
    });
}
