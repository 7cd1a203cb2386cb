import { Component } from "@odoo/owl";
import { _t } from "@web/core/l10n/translation";
import { registry } from "@web/core/registry";
import { standardFieldProps } from "@web/views/fields/standard_field_props";

/**
 * Plays a call recording or a voicemail in the form: works on a many2one to
 * ir.attachment (call.cdr.recording_attachment_id) and on a binary field
 * (call.voicemail.audio). Access is checked by /web/content (record rules).
 */
export class CallAudioField extends Component {
    static template = "call_telephony.CallAudioField";
    static props = { ...standardFieldProps };

    get fieldType() {
        return this.props.record.fields[this.props.name].type;
    }

    get src() {
        const record = this.props.record;
        const value = record.data[this.props.name];
        if (!value) {
            return false;
        }
        if (this.fieldType === "many2one") {
            return `/web/content/${value[0]}`;
        }
        if (!record.resId) {
            return false;
        }
        return `/web/content/${record.resModel}/${record.resId}/${this.props.name}`;
    }

    get downloadUrl() {
        return this.src ? `${this.src}?download=true` : false;
    }

    get emptyLabel() {
        return _t("No recording");
    }
}

registry.category("fields").add("call_audio", {
    component: CallAudioField,
    displayName: _t("Audio player"),
    supportedTypes: ["many2one", "binary"],
});
