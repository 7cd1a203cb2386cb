# Chinese prompts use Chinese (full-width) punctuation:
# ruff: noqa: RUF001
"""Voice prompts, generated with espeak-ng and sox at first use.

Nothing binary is shipped: each prompt text (the built-in catalogue below, or
a text from Odoo's configuration such as an IVR welcome) is synthesised once
into ``<spool dir>/prompts/<lang>-<hash>.wav`` as 8 kHz mono 16-bit PCM, the
format of the conference bridge, and reused afterwards. Hold music is a soft
sox-synthesised chord loop.
"""

import hashlib
import logging
import os
import re
import shutil
import subprocess
import threading
import wave

_logger = logging.getLogger(__name__)

CATALOGUE = {
    "zh": {
        "welcome": "您好，欢迎致电订餐热线。",
        "menu": "订餐请按1，自助语音订餐请按2，留言请按9，重听请按星号键。",
        "invalid": "输入有误，请重新输入。",
        "queue_wait": "坐席正忙，请稍候，您的电话马上为您接通。",
        "position": "您前面还有",
        "position_after": "位来电。",
        "blacklisted": "对不起，您的号码无法接通本热线。再见。",
        "surge": "现在来电较多，我们已记录您的号码，稍后会给您回电。谢谢，再见。",
        "backup": "正在为您转接值班电话，请稍候。",
        "ss_intro": "现在为您转入自助订餐。",
        "ss_party": "请输入用餐人数，以井号键结束。",
        "ss_day": "今天请按1，明天请按2，后天请按3，更晚的日期请按4到7。",
        "ss_time": "请输入到店时间，四位数字，例如晚上六点半请输入1830。",
        "ss_checking": "正在为您查询餐位，请稍候。",
        "ss_available": "有空余餐位。",
        "ss_unavailable": "对不起，该时间已订满，请换一个时间。",
        "ss_confirm": "确认预订请按1，修改时间请按2。",
        "ss_order_number": "预订成功，您的订单号是",
        "ss_order_later": "您的预订已记录，我们的客服会尽快与您确认。",
        "voicemail": "请在提示音后留言，按井号键结束。",
        "member": "请输入会员号，以井号键结束。",
        "member_ok": "验证成功。",
        "member_invalid": "会员号有误，请重新输入。",
        "member_failed": "会员号未能验证，现在为您转接。",
        "goodbye": "谢谢您的来电，再见。",
        "callee_wait": "正在为您接通，请稍候。",
        "digit_0": "零",
        "digit_1": "一",
        "digit_2": "二",
        "digit_3": "三",
        "digit_4": "四",
        "digit_5": "五",
        "digit_6": "六",
        "digit_7": "七",
        "digit_8": "八",
        "digit_9": "九",
    },
    "en": {
        "welcome": "Hello, welcome to the restaurant ordering line.",
        "menu": "For orders press 1. For self service ordering press 2. "
        "To leave a message press 9. To hear this again press star.",
        "invalid": "Sorry, that is not a valid choice.",
        "queue_wait": "All our agents are busy. "
        "Please hold, we will be with you shortly.",
        "position": "You are caller number",
        "position_after": "in the queue.",
        "blacklisted": "Sorry, your number cannot reach this line. Goodbye.",
        "surge": "We are receiving many calls. We have noted your number and will "
        "call you back shortly. Thank you, goodbye.",
        "backup": "Transferring you to our duty phone, please hold.",
        "ss_intro": "Welcome to self service ordering.",
        "ss_party": "Please enter the number of guests, then press hash.",
        "ss_day": "For today press 1, tomorrow 2, the day after 3, later days 4 to 7.",
        "ss_time": "Please enter the arrival time as four digits, "
        "for example 1830 for half past six in the evening.",
        "ss_checking": "Checking availability, please hold.",
        "ss_available": "A table is available.",
        "ss_unavailable": "Sorry, that time is fully booked. "
        "Please choose another time.",
        "ss_confirm": "To confirm press 1. To change the time press 2.",
        "ss_order_number": "Your booking is made. Your order number is",
        "ss_order_later": "Your request is noted; "
        "our staff will confirm it with you soon.",
        "voicemail": "Please leave a message after the tone, then press hash.",
        "member": "Please enter your member number, then press hash.",
        "member_ok": "Thank you, you are verified.",
        "member_invalid": "Sorry, we do not know that member number.",
        "member_failed": "We could not verify your member number. "
        "We are connecting you now.",
        "goodbye": "Thank you for calling. Goodbye.",
        "callee_wait": "Connecting your call, please hold.",
        **{
            f"digit_{d}": w
            for d, w in enumerate(
                "zero one two three four five six seven eight nine".split()
            )
        },
    },
}

_CJK = re.compile(r"[\u4e00-\u9fff]")
VOICES = {"zh": "cmn", "en": "en"}


def wav_duration(path):
    """Length of a WAV file in seconds (0 when unreadable)."""
    try:
        with wave.open(path, "rb") as w:
            return w.getnframes() / float(w.getframerate() or 1)
    except (OSError, EOFError, wave.Error):
        return 0.0


class PromptLibrary:
    """Synthesised prompt files, cached on disk by language and text."""

    def __init__(self, directory, language="zh"):
        self.directory = directory
        self.language = language if language in CATALOGUE else "zh"
        os.makedirs(directory, exist_ok=True)
        self._lock = threading.Lock()
        self._durations = {}

    def text(self, key, language=None):
        lang = language or self.language
        return CATALOGUE[lang].get(key) or CATALOGUE["en"].get(key) or key

    def path(self, key, language=None):
        """WAV file of a catalogue prompt."""
        return self.speak(self.text(key, language), language)

    def speak(self, text, language=None):
        """WAV file saying ``text`` (generated once)."""
        lang = language or ("zh" if _CJK.search(text) else "en")
        digest = hashlib.sha1((f"{lang}|{text}").encode()).hexdigest()[:16]
        target = os.path.join(self.directory, f"{lang}-{digest}.wav")
        if os.path.exists(target):
            return target
        with self._lock:
            if not os.path.exists(target):
                self._synthesise(text, lang, target)
        return target

    def hold_music(self):
        target = os.path.join(self.directory, "hold-music.wav")
        if not os.path.exists(target):
            with self._lock:
                chord = (
                    "synth 1.2 sine 440 sine 554 sine 659 channels 1 "
                    "fade q 0.1 1.2 0.3 vol 0.15 repeat 3"
                )
                tmp = self._scratch(target, "tmp")
                self._sox(
                    ["-n", "-r", "8000", "-c", "1", "-b", "16", tmp, *chord.split()]
                )
                os.replace(tmp, target)
        return target

    def duration(self, path):
        if path not in self._durations:
            self._durations[path] = wav_duration(path)
        return self._durations[path]

    def warm_up(self, texts=()):
        """Generate the whole catalogue (and extra texts) before taking calls."""
        for key in CATALOGUE[self.language]:
            self.path(key)
        for text in texts:
            if text:
                self.speak(text)
        self.hold_music()

    # -- helpers -----------------------------------------------------------
    def _sox(self, args):
        subprocess.run(["sox", *args], check=True, capture_output=True, timeout=30)

    @staticmethod
    def _scratch(target, part):
        """A work file of this process: the processes of a pool share the
        prompt directory and may make the same prompt at the same time."""
        return f"{target}.{os.getpid()}.{part}.wav"

    def _synthesise(self, text, lang, target):
        raw = self._scratch(target, "raw")
        tmp = self._scratch(target, "tmp")
        if not shutil.which("espeak-ng"):
            # no synthesiser: a short silence keeps the call flow working
            self._sox(
                ["-n", "-r", "8000", "-c", "1", "-b", "16", tmp, "trim", "0", "0.5"]
            )
            os.replace(tmp, target)
            _logger.warning("espeak-ng missing: prompt %r is silence", text)
            return
        subprocess.run(
            ["espeak-ng", "-v", VOICES.get(lang, "en"), "-s", "165", "-w", raw, text],
            check=True,
            capture_output=True,
            timeout=30,
        )
        self._sox([raw, "-r", "8000", "-c", "1", "-b", "16", tmp])
        os.remove(raw)
        os.replace(tmp, target)
