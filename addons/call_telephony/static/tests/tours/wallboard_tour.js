import { registry } from "@web/core/registry";

registry.category("web_tour.tours").add("call_telephony_wallboard_tour", {
    steps: () => [
        {
            content: "The live call is on the wallboard",
            trigger: ".o_call_wallboard_live tr:contains(13912345678)",
        },
        {
            content: "Listen to it",
            trigger: ".o_call_wallboard_live tr:contains(13912345678) button:contains(Listen)",
            run: "click",
        },
        {
            content: "The command went to the gateway",
            trigger: ".o_notification:contains(Command sent to the gateway)",
        },
    ],
});

registry.category("web_tour.tours").add("call_telephony_recording_tour", {
    steps: () => [
        {
            content: "The recording plays in the call record",
            trigger: ".o_form_view .o_call_audio_field audio.o_call_audio",
        },
    ],
});
